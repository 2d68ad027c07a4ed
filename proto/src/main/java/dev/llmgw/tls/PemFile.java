package dev.llmgw.tls;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * A PEM file and the setting that named it, so every error about the file says which setting to fix.
 *
 * @param setting the flag without its dashes, e.g. {@code tls-cert-file}
 * @param path where the file is
 */
public record PemFile(String setting, Path path) {

  public PemFile {
    requireNonNull(setting, "setting");
    requireNonNull(path, "path");
  }

  @Override
  public String toString() {
    return "--" + setting + "=" + path;
  }
}
