package dev.llmgw.tls;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The three files of one side of a mutual-TLS link: this process's certificate chain (leaf first)
 * and its private key, and the CA certificates the peer's chain must lead to.
 */
public record TlsFiles(PemFile certificate, PemFile privateKey, PemFile trustedCa) {

  public TlsFiles {
    requireNonNull(certificate, "certificate");
    requireNonNull(privateKey, "privateKey");
    requireNonNull(trustedCa, "trustedCa");
  }

  /**
   * The files three settings name, or null when none is set.
   *
   * @param values setting name to value, "" for unset
   * @throws IllegalArgumentException when some but not all of the three are set
   */
  public static @Nullable TlsFiles fromSettings(
      Map<String, String> values, String certificate, String privateKey, String trustedCa) {
    List<String> names = List.of(certificate, privateKey, trustedCa);
    List<String> missing = new ArrayList<>();
    for (String name : names) {
      if (values.getOrDefault(name, "").isEmpty()) {
        missing.add("--" + name);
      }
    }
    if (missing.size() == names.size()) {
      return null;
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("--" + String.join(", --", names)
          + " go together (expected: all three or none; missing: " + String.join(", ", missing)
          + ")");
    }
    return new TlsFiles(
        file(values, certificate), file(values, privateKey), file(values, trustedCa));
  }

  private static PemFile file(Map<String, String> values, String name) {
    return new PemFile(name, Path.of(requireNonNull(values.get(name), name)));
  }
}
