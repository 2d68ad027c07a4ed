package dev.llmgw.extproc.pii;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Credentials with a recognisable shape, tried at the start of a token whose first characters
 * match a known prefix. Generic high-entropy strings are not reported: without a prefix or a label
 * they cannot be told from hashes, ids and base64 data.
 */
final class SecretDetector {

  /**
   * Labels after which a 40-character AWS secret access key is expected (Terraform's provider and
   * many SDK configs call it just "secret_key"; any 40-character key under that name is a secret).
   */
  private static final String[] AWS_SECRET_LABELS = {
    "aws_secret_access_key",
    "aws-secret-access-key",
    "aws secret access key",
    "aws_secret_key",
    "secret_access_key",
    "secretaccesskey",
    "secret access key",
    "secret_key",
    "secret-key",
    "secretkey"
  };

  private static final String[] GITHUB_PREFIXES = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_"};
  private static final String[] STRIPE_PREFIXES = {"sk_live_", "rk_live_", "pk_live_"};

  private SecretDetector() {}

  /**
   * The first two characters of every token {@link #at} can match, as a bit set indexed by
   * {@code first << 7 | second}: one lookup per word decides whether a word needs a closer look.
   */
  private static final long[] PREFIXES = new long[128 * 128 / 64];

  static {
    for (String prefix : new String[] {
      "AK", "AS", "AI", "AW", "Aw", "aw", "aW", "gh", "gi", "xo", "sk", "rk", "pk", "ey", "se",
      "sE", "Se", "SE", "be", "bE", "Be", "BE"
    }) {
      int key = prefix.charAt(0) << 7 | prefix.charAt(1);
      PREFIXES[key >>> 6] |= 1L << key;
    }
  }

  /** Whether a token starting with {@code first} and {@code second} may be a secret {@link #at} matches. */
  static boolean mayStart(char first, char second) {
    if (second >= 128) {
      return false;
    }
    int key = first << 7 | second;
    return (PREFIXES[key >>> 6] & (1L << key)) != 0;
  }

  /**
   * Tries the secrets that start at {@code i}, a token start, reporting what it finds. Returns where
   * the scan continues: the end of the token when it began with a known prefix, found or not (so
   * that "sk-sk-sk-..." is read once, not once per prefix), or -1 when no prefix matched.
   */
  static int at(String s, int i, Findings out) {
    char c = s.charAt(i);
    char next = Chars.at(s, i + 1);
    return switch (c) {
      case 'A' ->
        next == 'K' || next == 'S'
            ? awsAccessKeyId(s, i, out)
            : next == 'I'
                ? gcpApiKey(s, i, out)
                : next == 'W' && (Chars.at(s, i + 2) | 0x20) == 's' ? awsSecretKey(s, i, out) : -1;
      case 'a' -> next == 'w' && (Chars.at(s, i + 2) | 0x20) == 's' ? awsSecretKey(s, i, out) : -1;
      case 'g' -> next == 'h' || next == 'i' ? github(s, i, out) : -1;
      case 'x' -> next == 'o' ? slack(s, i, out) : -1;
      case 's' ->
        next == 'k'
            ? (Chars.at(s, i + 2) == '-' ? openAiOrAnthropic(s, i, out) : stripe(s, i, out))
            : next == 'e' && Chars.at(s, i + 2) == 'c' ? awsSecretKey(s, i, out) : -1;
      case 'S' ->
        (next | 0x20) == 'e' && (Chars.at(s, i + 2) | 0x20) == 'c' ? awsSecretKey(s, i, out) : -1;
      case 'r', 'p' -> next == 'k' ? stripe(s, i, out) : -1;
      case 'e' -> next == 'y' ? jwt(s, i, out) : -1;
      case 'B', 'b' ->
        (next | 0x20) == 'e' && (Chars.at(s, i + 2) | 0x20) == 'a' ? bearer(s, i, out) : -1;
      case '-' -> next == '-' ? pemPrivateKey(s, i, out) : -1;
      default -> -1;
    };
  }

  /** AKIA (long-term) or ASIA (temporary) and 16 base32 characters. */
  private static int awsAccessKeyId(String s, int i, Findings out) {
    if (!s.startsWith("AKIA", i) && !s.startsWith("ASIA", i)) {
      return -1;
    }
    int end = run(s, i + 4, Kind.ALNUM);
    if (end - i != 20) {
      return end;
    }
    for (int k = i + 4; k < end; k++) {
      char c = s.charAt(k);
      if (!Chars.isUpper(c) && (c < '2' || c > '7')) {
        return end;
      }
    }
    return report(s, i, end, out);
  }

  /** A 40-character secret access key, only right after a label that names it. */
  private static int awsSecretKey(String s, int i, Findings out) {
    if (!s.regionMatches(true, i, "aws", 0, 3) && !s.regionMatches(true, i, "secret", 0, 6)) {
      return -1; // "second", "section", "awesome"
    }
    int label = -1;
    for (String l : AWS_SECRET_LABELS) {
      if (s.regionMatches(true, i, l, 0, l.length())) {
        label = i + l.length();
        break;
      }
    }
    if (label < 0) {
      return -1;
    }
    int k = label;
    while (k < s.length() && k - label < 8 && " \t\"'`:=>\\".indexOf(s.charAt(k)) >= 0) {
      k++;
    }
    int end = run(s, k, Kind.BASE64);
    if (end - k != 40 || Chars.at(s, end) == '=') {
      return -1;
    }
    boolean upper = false;
    boolean lower = false;
    for (int j = k; j < end; j++) {
      upper |= Chars.isUpper(s.charAt(j));
      lower |= Chars.isLower(s.charAt(j));
    }
    return upper && lower ? report(s, k, end, out) : -1;
  }

  /** Google API keys: AIza and 35 base64url characters. */
  private static int gcpApiKey(String s, int i, Findings out) {
    if (!s.startsWith("AIza", i)) {
      return -1;
    }
    int end = run(s, i + 4, Kind.BASE64URL);
    return end - i == 39 ? report(s, i, end, out) : end;
  }

  /** Classic tokens (ghp_ and friends, 36 characters) and fine-grained ones (github_pat_). */
  private static int github(String s, int i, Findings out) {
    for (String prefix : GITHUB_PREFIXES) {
      if (s.startsWith(prefix, i)) {
        int end = run(s, i + prefix.length(), Kind.ALNUM);
        return end - i - prefix.length() >= 36 ? report(s, i, end, out) : end;
      }
    }
    if (s.startsWith("github_pat_", i)) {
      int end = run(s, i + 11, Kind.WORD);
      return end - i - 11 >= 22 ? report(s, i, end, out) : end;
    }
    return -1;
  }

  /** Slack tokens: xoxb-, xoxa-, xoxp-, xoxr-, xoxs- and at least 10 characters with a digit. */
  private static int slack(String s, int i, Findings out) {
    if (!s.startsWith("xox", i)
        || "baprs".indexOf(Chars.at(s, i + 3)) < 0
        || Chars.at(s, i + 4) != '-') {
      return -1;
    }
    int end = run(s, i + 5, Kind.ALNUM_DASH);
    while (end > i + 5 && s.charAt(end - 1) == '-') {
      end--;
    }
    return end - i - 5 >= 10 && hasDigit(s, i + 5, end) ? report(s, i, end, out) : end;
  }

  /** Stripe live keys: secret, restricted and publishable. */
  private static int stripe(String s, int i, Findings out) {
    for (String prefix : STRIPE_PREFIXES) {
      if (s.startsWith(prefix, i)) {
        int end = run(s, i + prefix.length(), Kind.ALNUM);
        return end - i - prefix.length() >= 16 ? report(s, i, end, out) : end;
      }
    }
    return -1;
  }

  /**
   * OpenAI (sk-..., sk-proj-..., sk-svcacct-...) and Anthropic (sk-ant-...) keys: at least 32
   * base64url characters after "sk-" with upper case, lower case and digits, which placeholders
   * like "sk-xxxx..." and words like "sk-learn" lack.
   */
  private static int openAiOrAnthropic(String s, int i, Findings out) {
    int end = run(s, i + 3, Kind.BASE64URL);
    if (end - i - 3 < 32) {
      return end;
    }
    boolean upper = false;
    boolean lower = false;
    for (int k = i + 3; k < end; k++) {
      upper |= Chars.isUpper(s.charAt(k));
      lower |= Chars.isLower(s.charAt(k));
    }
    return upper && lower && hasDigit(s, i + 3, end) ? report(s, i, end, out) : end;
  }

  /** A JSON Web Token: three base64url segments whose first decodes to a JSON header with "alg". */
  private static int jwt(String s, int i, Findings out) {
    if (Chars.at(s, i + 2) != 'J') {
      return -1;
    }
    int headerEnd = run(s, i, Kind.BASE64URL);
    if (headerEnd - i < 10 || Chars.at(s, headerEnd) != '.') {
      return headerEnd;
    }
    int payloadEnd = run(s, headerEnd + 1, Kind.BASE64URL);
    if (payloadEnd - headerEnd - 1 < 10 || Chars.at(s, payloadEnd) != '.') {
      return payloadEnd;
    }
    int end = run(s, payloadEnd + 1, Kind.BASE64URL);
    if (end - payloadEnd - 1 < 16 || !hasAlg(s.substring(i, headerEnd))) {
      return end;
    }
    while (Chars.at(s, end) == '.' && Chars.isBase64Url(Chars.at(s, end + 1))) {
      end = run(s, end + 1, Kind.BASE64URL); // JWE: five segments
    }
    return report(s, i, end, out);
  }

  private static boolean hasAlg(String header) {
    try {
      String json = new String(Base64.getUrlDecoder().decode(header), StandardCharsets.UTF_8);
      return json.startsWith("{") && json.contains("\"alg\"");
    } catch (IllegalArgumentException notBase64) {
      return false;
    }
  }

  /** The token of "Bearer &lt;token&gt;": at least 20 token characters with letters and digits. */
  private static int bearer(String s, int i, Findings out) {
    if (!s.regionMatches(true, i, "bearer", 0, 6)) {
      return -1;
    }
    int k = i + 6;
    while (k < s.length() && k - i - 6 < 3 && s.charAt(k) == ' ') {
      k++;
    }
    if (k == i + 6) {
      return -1;
    }
    int end = run(s, k, Kind.TOKEN68);
    while (Chars.at(s, end) == '=') {
      end++;
    }
    if (end - k < 20 || !hasDigit(s, k, end) || Chars.isWordAt(s, end)) {
      return Math.max(end, k);
    }
    boolean letter = false;
    for (int j = k; j < end && !letter; j++) {
      letter = Chars.isLetter(s.charAt(j));
    }
    return letter ? report(s, k, end, out) : end;
  }

  /**
   * A PEM private key block, BEGIN through END; a block cut off before END runs to the end of its
   * base64. The END line is looked for within {@link #MAX_PEM} characters (an 8192-bit RSA key is
   * about 6.5 KB), so repeated headers cannot make a scan quadratic.
   */
  private static int pemPrivateKey(String s, int i, Findings out) {
    if (!s.startsWith("-----BEGIN ", i)) {
      return -1;
    }
    int labelStart = i + 11;
    int labelEnd = labelStart;
    while (labelEnd < s.length()
        && labelEnd - labelStart <= 40
        && !s.startsWith("-----", labelEnd)) {
      labelEnd++;
    }
    if (!s.startsWith("-----", labelEnd)) {
      return -1;
    }
    String label = s.substring(labelStart, labelEnd);
    if (!label.endsWith("PRIVATE KEY") && !label.equals("PGP PRIVATE KEY BLOCK")) {
      return -1;
    }
    int bodyStart = labelEnd + 5;
    String footer = "-----END " + label + "-----";
    int footerAt =
        s.substring(bodyStart, Math.min(s.length(), bodyStart + MAX_PEM)).indexOf(footer);
    int end;
    if (footerAt >= 0) {
      end = bodyStart + footerAt + footer.length();
    } else {
      end = bodyStart;
      while (end < s.length() && isPemBody(s.charAt(end))) {
        end++;
      }
    }
    return report(s, i, end, out);
  }

  private static final int MAX_PEM = 16 * 1024;

  private static boolean isPemBody(char c) {
    return Chars.isAlnum(c)
        || c == '+'
        || c == '/'
        || c == '='
        || c == '\\'
        || Character.isWhitespace(c);
  }

  /**
   * Reports {@code [start, end)} unless it is a placeholder: a real key has many distinct characters,
   * while "ghp_xxxxxxxx..." or "AKIAXXXXXXXXXXXXXXXX" has fewer than eight, prefix included.
   */
  private static int report(String s, int start, int end, Findings out) {
    if (distinct(s, start, end) < MIN_DISTINCT) {
      return end;
    }
    out.add(EntityType.SECRET, start, end);
    return end;
  }

  private static final int MIN_DISTINCT = 8;

  private static int distinct(String s, int start, int end) {
    long low = 0;
    long high = 0;
    int count = 0;
    for (int k = start; k < end && count < MIN_DISTINCT; k++) {
      char c = s.charAt(k);
      if (c >= 128) {
        continue;
      }
      long bit = 1L << (c & 63);
      if (c < 64) {
        if ((low & bit) == 0) {
          low |= bit;
          count++;
        }
      } else if ((high & bit) == 0) {
        high |= bit;
        count++;
      }
    }
    return count;
  }

  private static boolean hasDigit(String s, int from, int to) {
    for (int k = from; k < to; k++) {
      if (Chars.isDigit(s.charAt(k))) {
        return true;
      }
    }
    return false;
  }

  private enum Kind {
    ALNUM,
    ALNUM_DASH,
    WORD,
    BASE64URL,
    BASE64,
    TOKEN68
  }

  /** The end of the run of {@code kind} characters starting at {@code from}. */
  private static int run(String s, int from, Kind kind) {
    int k = from;
    int n = s.length();
    while (k < n && matches(s.charAt(k), kind)) {
      k++;
    }
    return k;
  }

  private static boolean matches(char c, Kind kind) {
    return switch (kind) {
      case ALNUM -> Chars.isAlnum(c);
      case ALNUM_DASH -> Chars.isAlnum(c) || c == '-';
      case WORD -> Chars.isWord(c);
      case BASE64URL -> Chars.isBase64Url(c);
      case BASE64 -> Chars.isAlnum(c) || c == '+' || c == '/';
      case TOKEN68 ->
        Chars.isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    };
  }
}
