package dev.llmgw.extproc.pii;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the words written just before a candidate ("order #", "SSN:", "version") so that detectors
 * can tell an order number from a phone number, or a version from an IP address. Only called for
 * candidates that already passed the structural checks, so it may allocate.
 */
final class Labels {

  /** How far back a label may start. */
  private static final int WINDOW = 40;

  /**
   * Words that introduce identifiers rather than personal numbers. A number right after them (or
   * after them and "no."/"number") is not reported as a phone, card or SSN.
   */
  private static final Set<String> IDENTIFIER_WORDS = Set.of(
      // English
      "order",
      "orders",
      "invoice",
      "inv",
      "ref",
      "reference",
      "ticket",
      "case",
      "tracking",
      "shipment",
      "parcel",
      "awb",
      "sku",
      "ean",
      "gtin",
      "upc",
      "isbn",
      "issn",
      "serial",
      "sn",
      "build",
      "version",
      "ver",
      "release",
      "commit",
      "sha",
      "hash",
      "rev",
      "revision",
      "transaction",
      "txn",
      "confirmation",
      "booking",
      "reservation",
      "policy",
      "claim",
      "customer",
      "account",
      "acct",
      "po",
      "part",
      "model",
      "item",
      "batch",
      "lot",
      "job",
      "request",
      "req",
      "incident",
      "issue",
      "uid",
      "pid",
      "port",
      "doi",
      "patent",
      "receipt",
      "voucher",
      "coupon",
      "barcode",
      "product",
      "asset",
      "container",
      "trace",
      "span",
      "timestamp",
      "epoch",
      "zip",
      "postcode",
      "postal",
      "tax",
      "vat",
      "tin",
      "iban",
      "bic",
      "swift",
      "routing",
      "aba",
      "range",
      "ports",
      "imei",
      "npi",
      "pin",
      "otp",
      "population",
      // German
      "bestellung",
      "bestellnummer",
      "bestellnr",
      "rechnung",
      "rechnungsnummer",
      "rechnungsnr",
      "auftrag",
      "auftragsnummer",
      "kundennummer",
      "kundennr",
      "sendungsnummer",
      "artikelnummer",
      "artikel",
      "seriennummer",
      "vorgang",
      "vorgangsnummer",
      "buchung",
      "buchungsnummer",
      "vertragsnummer",
      "aktenzeichen",
      "kennung",
      "lieferschein",
      "steuernummer",
      "plz",
      "postleitzahl",
      "konto",
      "kontonummer",
      // French
      "commande",
      "facture",
      "référence",
      "réf",
      "dossier",
      "colis",
      "suivi",
      "article",
      "reçu",
      // Spanish / Portuguese / Italian
      "pedido",
      "factura",
      "referencia",
      "envío",
      "envio",
      "seguimiento",
      "expediente",
      "fatura",
      "encomenda",
      "ordine",
      "fattura",
      "riferimento",
      "spedizione",
      "recibo",
      // Hindi
      "ऑर्डर",
      "चालान",
      "बिल");

  /** Words that say the number after them is a phone number; they win over identifier words further back. */
  static final Set<String> PHONE_WORDS = Set.of(
      "phone",
      "tel",
      "telephone",
      "mobile",
      "cell",
      "fax",
      "call",
      "whatsapp",
      "contact",
      "hotline",
      "dial",
      "telefon",
      "telefonnummer",
      "handy",
      "mobil",
      "rufnummer",
      "anrufen",
      "téléphone",
      "tél",
      "portable",
      "appelez",
      "teléfono",
      "telefono",
      "móvil",
      "movil",
      "celular",
      "telefone",
      "llame",
      "ligue",
      "cellulare",
      "फ़ोन",
      "फोन",
      "मोबाइल",
      "sms",
      "text",
      "ring",
      "tlf",
      "ph",
      "mob");

  /** Japanese and Chinese phone labels, matched as substrings. */
  private static final List<String> CJK_PHONE_LABELS =
      List.of("電話", "携帯", "TEL", "Tel", "电话", "手机", "연락처", "전화");

  /** Japanese and Chinese labels, matched as substrings because those scripts do not separate words. */
  private static final List<String> CJK_IDENTIFIER_LABELS = List.of(
      "注文", "請求", "伝票", "受付番号", "会員番号", "商品", "型番", "管理番号", "追跡", "問い合わせ番号", "订单", "发票", "编号");

  /**
   * Words that introduce a four-part version or section number, not an IP address. Words that also
   * often precede addresses ("node", "host", "update") are deliberately absent.
   */
  private static final Set<String> VERSION_WORDS = Set.of(
      "version",
      "versions",
      "ver",
      "v",
      "release",
      "build",
      "firmware",
      "fw",
      "sdk",
      "rev",
      "revision",
      "patch",
      "section",
      "chapter",
      "clause",
      "figure",
      "versión",
      "versione",
      "abschnitt",
      "kapitel",
      "paket",
      "package",
      "library",
      "lib",
      "jdk",
      "kernel",
      "ios",
      "android",
      "windows",
      "chrome",
      "firefox",
      "schema",
      "protocol",
      "spec",
      "oid",
      "upgrade",
      "upgraded",
      "downgrade",
      "bump",
      "bumped");

  /** Abbreviations that end in a dot without ending the sentence ("Order No. 123", "Tel. 030 ..."). */
  private static final Set<String> ABBREVIATIONS = Set.of(
      "no",
      "nr",
      "tel",
      "ref",
      "inv",
      "réf",
      "tél",
      "art",
      "kd",
      "kdnr",
      "bestellnr",
      "rechnungsnr",
      "kundennr",
      "num",
      "núm",
      "n",
      "nº",
      "ca",
      "mob",
      "ph",
      "fax",
      "txn",
      "req",
      "v",
      "ver",
      "sec",
      "ss",
      "soc");

  /** Filler between a label and its value: "order no. 123", "numéro de commande". */
  private static final Set<String> FILLER = Set.of(
      "no", "nr", "number", "num", "nummer", "numéro", "número", "numero", "n", "nº", "de", "du",
      "of", "the", "your", "my", "our", "is", "ist", "est", "es", "id");

  /** Words that say the number after them is a card number. */
  static final Set<String> CARD_WORDS = Set.of(
      "card",
      "credit",
      "debit",
      "visa",
      "mastercard",
      "amex",
      "cc",
      "pan",
      "karte",
      "kreditkarte",
      "kreditkartennummer",
      "kartennummer",
      "carte",
      "cb",
      "tarjeta",
      "carta",
      "cartão",
      "cartao");

  /** Words that say the number after them is a US Social Security number. */
  static final Set<String> SSN_WORDS =
      Set.of("ssn", "social", "security", "sozialversicherungsnummer", "seguro");

  private Labels() {}

  /**
   * Whether the words before {@code start} say the number is an identifier (order, invoice, ...),
   * unless the nearest word is one of {@code positive} ("customer phone 0301234567").
   */
  static boolean identifierBefore(String s, int start, Set<String> positive) {
    List<String> words = wordsBefore(s, start, 2);
    if (!words.isEmpty() && positive.contains(words.get(0))) {
      return false;
    }
    for (String word : words) {
      if (IDENTIFIER_WORDS.contains(word)) {
        return true;
      }
    }
    String window = s.substring(Math.max(0, start - 12), start);
    for (String label : CJK_IDENTIFIER_LABELS) {
      if (window.contains(label)) {
        return true;
      }
    }
    return false;
  }

  /** Whether a phone label ("Tel:", "call", "電話") comes right before {@code start}. */
  static boolean phoneContextBefore(String s, int start) {
    for (String word : wordsBefore(s, start, 2)) {
      if (PHONE_WORDS.contains(word)) {
        return true;
      }
    }
    String window = s.substring(Math.max(0, start - 12), start);
    for (String label : CJK_PHONE_LABELS) {
      if (window.contains(label)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the word right before {@code start} says the number is a version or section. */
  static boolean versionBefore(String s, int start) {
    List<String> words = wordsBefore(s, start, 1);
    return !words.isEmpty() && VERSION_WORDS.contains(words.get(0));
  }

  /** Whether a "#" (optionally followed by spaces) comes right before {@code start}. */
  static boolean hashBefore(String s, int start) {
    int i = start - 1;
    while (i >= 0 && s.charAt(i) == ' ') {
      i--;
    }
    return i >= 0 && (s.charAt(i) == '#' || s.charAt(i) == '№' || s.charAt(i) == '＃');
  }

  /** Whether the text before {@code start} names a US Social Security number. */
  static boolean ssnContextBefore(String s, int start) {
    String window = s.substring(Math.max(0, start - WINDOW), start).toLowerCase(Locale.ROOT);
    if (window.contains("social security")
        || window.contains("soc. sec")
        || window.contains("soc sec")
        || window.contains("seguro social")
        || window.contains("社会保障番号")) {
      return true;
    }
    int at = window.indexOf("ssn");
    while (at >= 0) {
      boolean startsWord = at == 0 || !Character.isLetter(window.charAt(at - 1));
      boolean endsWord = at + 3 == window.length() || !Character.isLetter(window.charAt(at + 3));
      if (startsWord && endsWord) {
        return true;
      }
      at = window.indexOf("ssn", at + 1);
    }
    return false;
  }

  /** Letters and the combining vowel signs of scripts like Devanagari ("ऑर्डर" is one word). */
  private static boolean isWordLetter(char c) {
    if (Character.isLetter(c)) {
      return true;
    }
    int type = Character.getType(c);
    return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK;
  }

  /**
   * Up to {@code max} words before {@code start}, nearest first, lower-cased; a word is a run of
   * letters. Skips the punctuation between a label and its value and {@link #FILLER} words; stops
   * at a line break or at the end of the previous sentence.
   */
  static List<String> wordsBefore(String s, int start, int max) {
    List<String> words = new ArrayList<>(max);
    int limit = Math.max(0, start - WINDOW);
    int i = start - 1;
    while (words.size() < max && i >= limit) {
      char c = s.charAt(i);
      if (c == '\n' || c == '!' || c == '?' || c == ';' || c == '。') {
        return words;
      }
      if (!isWordLetter(c)) {
        i--;
        continue;
      }
      int end = i + 1;
      while (i >= limit && isWordLetter(s.charAt(i))) {
        i--;
      }
      String word = s.substring(i + 1, end).toLowerCase(Locale.ROOT);
      boolean dotAfter = end < start
          && s.charAt(end) == '.'
          && end + 1 < s.length()
          && Character.isWhitespace(s.charAt(end + 1));
      if (dotAfter && !ABBREVIATIONS.contains(word)) {
        return words; // "... your order. 020 7946 0958": the previous sentence is not a label
      }
      if (!FILLER.contains(word)) {
        words.add(word);
      }
    }
    return words;
  }
}
