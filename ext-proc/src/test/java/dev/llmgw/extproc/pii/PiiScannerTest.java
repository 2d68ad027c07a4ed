package dev.llmgw.extproc.pii;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PiiScannerTest {

  private static final PiiScanner SCANNER = PiiScanner.standard();

  /** The findings as "TYPE[matched text]", in order. */
  private static List<String> scan(String text) {
    return SCANNER.scan(text).stream()
        .map(f -> f.type() + "[" + text.substring(f.start(), f.end()) + "]")
        .collect(Collectors.toList());
  }

  private static String only(EntityType type, String value) {
    return type + "[" + value + "]";
  }

  @Nested
  class Api {

    @Test
    void tagsAreLowerCaseNamesAndParseIgnoringCase() {
      assertThat(EntityType.CREDIT_CARD.tag()).isEqualTo("credit_card");
      assertThat(EntityType.fromTag("Credit_Card")).isEqualTo(EntityType.CREDIT_CARD);
      for (EntityType type : EntityType.values()) {
        assertThat(EntityType.fromTag(type.tag())).isEqualTo(type);
      }
    }

    @Test
    void unknownTagFailsNamingTheAllowedValues() {
      assertThatThrownBy(() -> EntityType.fromTag("passport"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "unknown PII type: passport (expected one of: email, phone, credit_card, iban, us_ssn, ip_address, secret)");
      assertThatThrownBy(() -> EntityType.fromTag(null))
          .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void checksumValidatedTypesAreCardIbanSsnAndIp() {
      assertThat(EnumSet.allOf(EntityType.class).stream().filter(EntityType::checksumValidated))
          .containsExactly(
              EntityType.CREDIT_CARD, EntityType.IBAN, EntityType.US_SSN, EntityType.IP_ADDRESS);
    }

    @Test
    void findingRejectsEmptyOrNegativeSpans() {
      assertThatThrownBy(() -> new Finding(EntityType.EMAIL, 3, 3))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> new Finding(EntityType.EMAIL, -1, 3))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> new Finding(null, 0, 3)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void textWithoutPiiHasNoFindings() {
      assertThat(SCANNER.scan("")).isEmpty();
      assertThat(SCANNER.scan("In 2023 revenue grew 12% to $4.5 million across 37 countries."))
          .isEmpty();
    }

    @Test
    void offsetsAreUtf16IndexesEvenAfterNonAsciiText() {
      String text = "Grüße aus München 🙂 — 東京のメールはtaro@example.jp、電話は03-1234-5678です";

      List<Finding> findings = SCANNER.scan(text);

      assertThat(findings)
          .containsExactly(
              new Finding(EntityType.EMAIL, text.indexOf("taro@"), text.indexOf("、")),
              new Finding(EntityType.PHONE, text.indexOf("03-"), text.indexOf("です")));
    }

    @Test
    void acceptsAnyCharSequence() {
      assertThat(SCANNER.scan(new StringBuilder("mail jane.roe@example.com now")))
          .containsExactly(new Finding(EntityType.EMAIL, 5, 25));
    }

    @Test
    void findingsAreSortedByStartAndDoNotOverlap() {
      String text =
          "ip 10.0.0.1, mail a@example.com, card 4111 1111 1111 1111, ssn 234-56-7890, key AKIAQWERTY234567ABCD";

      List<Finding> findings = SCANNER.scan(text);

      assertThat(findings)
          .extracting(Finding::type)
          .containsExactly(
              EntityType.IP_ADDRESS,
              EntityType.EMAIL,
              EntityType.CREDIT_CARD,
              EntityType.US_SSN,
              EntityType.SECRET);
      for (int i = 1; i < findings.size(); i++) {
        assertThat(findings.get(i).start())
            .isGreaterThanOrEqualTo(findings.get(i - 1).end());
      }
    }

    @Test
    void scannerForSomeTypesReportsOnlyThose() {
      String text = "mail a@example.com or call +44 20 7946 0958";

      assertThat(PiiScanner.of(Set.of(EntityType.PHONE)).scan(text))
          .extracting(Finding::type)
          .containsExactly(EntityType.PHONE);
      assertThat(PiiScanner.of(Set.of(EntityType.EMAIL)).scan(text))
          .extracting(Finding::type)
          .containsExactly(EntityType.EMAIL);
      assertThat(PiiScanner.of(Set.of()).scan(text)).isEmpty();
      assertThat(PiiScanner.of(EnumSet.allOf(EntityType.class))).isSameAs(PiiScanner.standard());
    }

    @Test
    void ibanAloneStillFindsIbans() {
      assertThat(PiiScanner.of(Set.of(EntityType.IBAN)).scan("IBAN DE89 3704 0044 0532 0130 00"))
          .containsExactly(new Finding(EntityType.IBAN, 5, 32));
    }

    @Test
    void ofRejectsNullTypes() {
      assertThatThrownBy(() -> PiiScanner.of(null)).isInstanceOf(NullPointerException.class);
      assertThatThrownBy(() -> SCANNER.scan(null)).isInstanceOf(NullPointerException.class);
    }
  }

  @Nested
  class Overlaps {

    @Test
    void longerSpanWins() {
      Findings findings = new Findings(0);
      findings.add(EntityType.CREDIT_CARD, 2, 10);
      findings.add(EntityType.PHONE, 0, 12);

      assertThat(findings.resolve()).containsExactly(new Finding(EntityType.PHONE, 0, 12));
    }

    @Test
    void onEqualLengthTheMoreSpecificTypeWins() {
      Findings findings = new Findings(0);
      findings.add(EntityType.PHONE, 0, 10);
      findings.add(EntityType.CREDIT_CARD, 0, 10);
      findings.add(EntityType.PHONE, 20, 30);
      findings.add(EntityType.SECRET, 20, 30);

      assertThat(findings.resolve())
          .containsExactly(
              new Finding(EntityType.CREDIT_CARD, 0, 10), new Finding(EntityType.SECRET, 20, 30));
    }

    @Test
    void aLongSpanRemovesEveryShorterOneItOverlaps() {
      Findings findings = new Findings(0);
      findings.add(EntityType.PHONE, 0, 5);
      findings.add(EntityType.SECRET, 3, 20);
      findings.add(EntityType.IP_ADDRESS, 18, 25);
      findings.add(EntityType.EMAIL, 25, 30);

      assertThat(findings.resolve())
          .containsExactly(
              new Finding(EntityType.SECRET, 3, 20), new Finding(EntityType.EMAIL, 25, 30));
    }
  }

  @Nested
  class Email {

    @Test
    void findsAddressesInProseJsonAndHeaders() {
      assertThat(scan("Send it to jane.roe@example.com by Friday."))
          .containsExactly(only(EntityType.EMAIL, "jane.roe@example.com"));
      assertThat(scan("{\"email\":\"ops+pager@status-page.example.net\"}"))
          .containsExactly(only(EntityType.EMAIL, "ops+pager@status-page.example.net"));
      assertThat(scan("From: \"Roe, Jane\" <Jane.Roe@EXAMPLE.CO.UK>"))
          .containsExactly(only(EntityType.EMAIL, "Jane.Roe@EXAMPLE.CO.UK"));
    }

    @Test
    void sentencePunctuationIsNotPartOfTheAddress() {
      assertThat(scan("Write to a@example.org."))
          .containsExactly(only(EntityType.EMAIL, "a@example.org"));
      assertThat(scan("(a@example.org)")).containsExactly(only(EntityType.EMAIL, "a@example.org"));
    }

    @Test
    void findsAddressesGluedToJapaneseAndChineseText() {
      assertThat(scan("ご質問はtaro@example.jpまで"))
          .containsExactly(only(EntityType.EMAIL, "taro@example.jp"));
      assertThat(scan("请发送邮件至x@example.cn，谢谢"))
          .containsExactly(only(EntityType.EMAIL, "x@example.cn"));
    }

    @Test
    void findsUrlEncodedAddresses() {
      assertThat(scan("/unsubscribe?email=jane.roe%40example.com&x=1"))
          .containsExactly(only(EntityType.EMAIL, "jane.roe%40example.com"));
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "user@localhost",
          "icon@2x.png",
          "a@b.c",
          "Ping @jane",
          "npm i @types/node",
          "name@example",
          "ssh git@github.com:org/repo.git",
          "https://user:s3cret@example.com/x",
          "<EMAIL_1>",
          "root@kali:~# id",
          "müller@example.de"
        })
    void ignoresThingsThatAreNotMailboxes(String text) {
      assertThat(scan(text)).isEmpty();
    }
  }

  @Nested
  class Phone {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "+44 20 7946 0958",
          "+1-415-555-0132",
          "0049 30 123456",
          "+49 (0)30 123456",
          "+33 1 23 45 67 89",
          "+91 98765 43210",
          "+81 3-1234-5678",
          "+55 11 91234-5678",
          "+14155550132",
          "+1.415.555.0132"
        })
    void findsInternationalNumbers(String number) {
      assertThat(scan("Call " + number + " today")).containsExactly(only(EntityType.PHONE, number));
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "(415) 555-0132",
          "415-555-0199",
          "415.555.0143",
          "020 7946 0958",
          "030 12345678",
          "(030) 1234567",
          "01 23 45 67 89",
          "98765 43210",
          "03-1234-5678",
          "090-1234-5678",
          "(11) 91234-5678",
          "0491 570 156",
          "138 0013 8000"
        })
    void findsNationalNumbersOfTheDefaultRegions(String number) {
      assertThat(scan("Phone: " + number)).containsExactly(only(EntityType.PHONE, number));
    }

    @Test
    void aListLongerThanTheValidationBudgetIsStillReportedInFull() {
      StringBuilder csv = new StringBuilder("name,phone\n");
      for (int i = 0; i < 500; i++) {
        csv.append("Person ")
            .append(i)
            .append(",+44 20 7946 ")
            .append(String.format("%04d", i))
            .append('\n');
      }

      assertThat(SCANNER.scan(csv))
          .hasSize(500)
          .allMatch(f -> f.type() == EntityType.PHONE && f.end() - f.start() == 16);
    }

    @Test
    void findsFullWidthJapaneseNumbers() {
      assertThat(scan("電話０３－１２３４－５６７８まで")).containsExactly(only(EntityType.PHONE, "０３－１２３４－５６７８"));
    }

    @Test
    void bareDigitRunsAreNumbersOnlyAfterAPhoneLabel() {
      assertThat(scan("Tel: 0301234567")).containsExactly(only(EntityType.PHONE, "0301234567"));
      assertThat(scan("call 4155550132")).containsExactly(only(EntityType.PHONE, "4155550132"));
      assertThat(scan("id 4155550132")).isEmpty();
      assertThat(scan("created_at=1714566600")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "order #4532-1188-2290",
          "Order No. 302-1234567-1234567",
          "Invoice number: 2024100417",
          "Bestellnummer 4532118822",
          "Votre commande n° 1234567890",
          "ご注文番号：4532-1188-2290",
          "आपका ऑर्डर 4532118822",
          "Part No. 555-123-4567",
          "ISBN 978-3-16-148410-0",
          "ZIP 94105-1234"
        })
    void identifierLabelsWinOverPhoneShapes(String text) {
      assertThat(scan(text)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "2024-05-01 12:30:45",
          "2024-05-01T12:30:00Z",
          "01.05.2024 14:30",
          "05/01/2024",
          "20240501",
          "12:30:45",
          "555-0132",
          "+44 20 7946",
          "10.0.19045.3803",
          "04 15 23 42 08 16",
          "666-12-3456",
          "3.14159265",
          "port 8080",
          "2^31 - 1 = 2147483647"
        })
    void datesTimesVersionsAndShortNumbersAreNotPhones(String text) {
      assertThat(scan(text)).isEmpty();
    }
  }

  @Nested
  class CreditCard {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "4111 1111 1111 1111",
          "4111-1111-1111-1111",
          "4111111111111111",
          "5555 5555 5555 4444",
          "2223 0031 2200 3222",
          "3782 822463 10005",
          "378282246310005",
          "6011 1111 1111 1117",
          "3530 1113 3330 0000",
          "3056 9309 0259 04",
          "6200 0000 0000 0005",
          "6759 6498 2643 8453",
          "4222222222222"
        })
    void findsEveryNetworkAndGrouping(String number) {
      assertThat(scan("card " + number + ", exp 12/27"))
          .containsExactly(only(EntityType.CREDIT_CARD, number));
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "4111 1111 1111 1112",
          "5555-5555-5555-4445",
          "9111111111111111",
          "1234 5678 9012 3456",
          "4111-1111-1111-1111-1111",
          "41111111111111111111"
        })
    void rejectsLuhnInvalidUnknownIssuerAndOverlongNumbers(String number) {
      assertThat(scan("card " + number)).isEmpty();
    }

    @Test
    void numbersAfterASpaceGroupedCardDoNotHideIt() {
      // spaces join groups only loosely: the expiry or a year may follow the number
      assertThat(scan("card 4111 1111 1111 1111 12/27"))
          .containsExactly(only(EntityType.CREDIT_CARD, "4111 1111 1111 1111"));
      assertThat(scan("card 4111 1111 1111 1111 2027"))
          .containsExactly(only(EntityType.CREDIT_CARD, "4111 1111 1111 1111"));
    }

    @Test
    void aCardNumberUnderAnIdentifierLabelIsNotACard() {
      assertThat(scan("Serial number: 4111 1111 1111 1111")).isEmpty();
      assertThat(scan("Card number: 4111 1111 1111 1111")).hasSize(1);
    }
  }

  @Nested
  class Iban {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "DE89 3704 0044 0532 0130 00",
          "DE89370400440532013000",
          "GB82 WEST 1234 5698 7654 32",
          "GB33BUKB20201555555555",
          "NO93 8601 1117 947",
          "de89 3704 0044 0532 0130 00"
        })
    void findsCompactGroupedAndLowerCaseIbans(String iban) {
      assertThat(scan("IBAN: " + iban + ".")).containsExactly(only(EntityType.IBAN, iban));
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "DE88 3704 0044 0532 0130 00",
          "GB82WEST12345698765433",
          "XX89 3704 0044 0532 0130 00",
          "DE89 3704 0044 0532 0130",
          "De89370400440532013000",
          "DE89 37040044 0532 0130 00"
        })
    void rejectsWrongCheckDigitsUnknownCountriesAndBadShapes(String text) {
      assertThat(scan("IBAN " + text)).isEmpty();
    }
  }

  @Nested
  class UsSsn {

    @Test
    void findsDashedSpacedAndLabelledBareNumbers() {
      assertThat(scan("SSN 234-56-7890")).containsExactly(only(EntityType.US_SSN, "234-56-7890"));
      assertThat(scan("number 234 56 7890 on file"))
          .containsExactly(only(EntityType.US_SSN, "234 56 7890"));
      assertThat(scan("{\"ssn\":\"234567890\"}"))
          .containsExactly(only(EntityType.US_SSN, "234567890"));
      assertThat(scan("Social Security No. 234567890"))
          .containsExactly(only(EntityType.US_SSN, "234567890"));
    }

    @Test
    void bareNineDigitsWithoutContextAreNotSsns() {
      assertThat(scan("Routing number 021000021")).isEmpty();
      assertThat(scan("batch 234567890 done")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "000-12-3456",
          "666-12-3456",
          "900-12-3456",
          "999-99-9999",
          "123-00-4567",
          "123-45-0000",
          "078-05-1120",
          "219-09-9999",
          "666 12 3456"
        })
    void numbersTheSsaNeverIssuesAreRejected(String number) {
      assertThat(scan("SSN: " + number)).isEmpty();
    }
  }

  @Nested
  class IpAddress {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "203.0.113.42",
          "10.0.0.1",
          "192.168.1.254",
          "127.0.0.1",
          "0.0.0.0",
          "255.255.255.255",
          "2001:db8::1",
          "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
          "fe80::1ff:fe23:4567:890a",
          "::ffff:192.0.2.128",
          "2001:db8:3333:4444:5555:6666:1.2.3.4"
        })
    void findsIpv4AndIpv6Addresses(String address) {
      assertThat(scan("host " + address + " is down"))
          .containsExactly(only(EntityType.IP_ADDRESS, address));
    }

    @Test
    void portsPrefixLengthsAndBracketsAreNotPartOfTheAddress() {
      assertThat(scan("10.0.0.5:8080")).containsExactly(only(EntityType.IP_ADDRESS, "10.0.0.5"));
      assertThat(scan("198.51.100.0/24"))
          .containsExactly(only(EntityType.IP_ADDRESS, "198.51.100.0"));
      assertThat(scan("https://[2001:db8::1]:8443/"))
          .containsExactly(only(EntityType.IP_ADDRESS, "2001:db8::1"));
      assertThat(scan("at 203.0.113.195."))
          .containsExactly(only(EntityType.IP_ADDRESS, "203.0.113.195"));
    }

    @Test
    void onlyVersionWordsMakeFourPartNumbersVersions() {
      assertThat(scan("firmware 4.2.1.3")).isEmpty();
      assertThat(scan("node 10.0.0.5 is down"))
          .containsExactly(only(EntityType.IP_ADDRESS, "10.0.0.5"));
      assertThat(scan("update 10.0.0.5's config"))
          .containsExactly(only(EntityType.IP_ADDRESS, "10.0.0.5"));
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "1.2.3",
          "10.0",
          "v1.2.3.4",
          "version 1.2.3.4",
          "1.2.3.4.5",
          "2.10.0.1-beta",
          "10.0.19045.3803",
          "256.1.1.1",
          "192.168.001.001",
          "OID 1.3.6.1.4.1",
          "::1",
          "::",
          "std::vector<int>",
          "a::b",
          "12:30:45",
          "00:1a:2b:3c:4d:5e",
          "section 4.2.1.3",
          "Chrome 124.0.6367.91"
        })
    void versionsTimesMacAddressesAndCodeAreNotAddresses(String text) {
      assertThat(scan(text)).isEmpty();
    }
  }

  @Nested
  class Secret {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "AKIAQWERTY234567ABCD",
          "ASIAZ7Y6X5W4V3U2T2S2",
          "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
          "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
          "gho_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2",
          "github_pat_11ABCDEFG0123456789abc_DEFghiJKLmnoPQRstuVWXyz0123456789ABCDEFghijklmnopqrstuvwxyz01",
          "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
          "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
          "rk_live_51H8xYzAbCdEfGhIjKlMnOp",
          "pk_live_51H8xYzAbCdEfGhIjKlMnOp",
          "sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6l",
          "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz",
          "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1aB4cD7eF0gH3iJ6kL9mN2oP5qR8sT1uV4wX7yZ0AA",
          "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        })
    void findsKeysAndTokensByTheirPrefixes(String secret) {
      assertThat(scan("token=" + secret + " end")).containsExactly(only(EntityType.SECRET, secret));
    }

    @Test
    void awsSecretKeysOnlyAfterTheirLabel() {
      String key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
      assertThat(scan("aws_secret_access_key = " + key))
          .containsExactly(only(EntityType.SECRET, key));
      assertThat(scan("{\"SecretAccessKey\": \"" + key + "\"}"))
          .containsExactly(only(EntityType.SECRET, key));
      assertThat(scan("checksum " + key)).isEmpty();
    }

    @Test
    void bearerReportsTheTokenNotTheScheme() {
      assertThat(scan("Authorization: Bearer abcDEF1234567890ghijklmnop"))
          .containsExactly(only(EntityType.SECRET, "abcDEF1234567890ghijklmnop"));
    }

    @Test
    void pemPrivateKeyBlocksAreReportedWhole() {
      String block =
          "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4Ub6QJ3\nAbCdEf0123==\n-----END RSA PRIVATE KEY-----";
      assertThat(scan("key:\n" + block + "\nthanks"))
          .containsExactly(only(EntityType.SECRET, block));
      String escaped = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----";
      assertThat(scan("{\"private_key\":\"" + escaped + "\\n\"}"))
          .containsExactly(only(EntityType.SECRET, escaped));
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "sk-learn",
          "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
          "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
          "AKIAXXXXXXXXXXXXXXXX",
          "AKIAEXAMPLE",
          "Bearer <token>",
          "Bearer $TOKEN",
          "Bearer YOUR_ACCESS_TOKEN_HERE",
          "the bearer of this letter",
          "pk_test_TYooMQauvdEDq54NiTphI7jx",
          "eyJrZXkiOiJ2YWx1ZSIsIm4iOjEyMzR9",
          "eyJhIjoxfQ.eyJiIjoyfQ.c2lnbmF0dXJlLXNpZ24",
          "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----",
          "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----",
          "xoxb-your-token"
        })
    void placeholdersPublicKeysAndLookalikesAreNotSecrets(String text) {
      assertThat(scan(text)).isEmpty();
    }
  }

  @Nested
  class Adversarial {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "-----BEGIN PRIVATE KEY-----\n",
          "-----BEGIN ",
          "a@",
          "@",
          "%40",
          "1 ",
          "1.",
          "1:",
          "::",
          "ghp_",
          "eyJhbGciOiJIUzI1NiJ9.",
          "Bearer ",
          "sk-",
          "DE89 ",
          "x",
          "4111 1111 1111 1111 ",
          "+1 415 555 0132 "
        })
    void repeatedFragmentsScanInLinearTime(String fragment) {
      String text = fragment.repeat(256 * 1024 / fragment.length());
      long start = System.nanoTime();

      SCANNER.scan(text);

      // a quadratic scan of 256 KB would take minutes; linear takes milliseconds (seconds on a
      // loaded machine)
      assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
    }
  }

  @Nested
  class HardNegatives {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "request 550e8400-e29b-41d4-a716-446655440000 failed",
          "id 12345678-1234-1234-1234-123456789012",
          "commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 and 3f78685",
          "Upgrade to 1.2.3, v2.10.0 or 10.0.19045.3803",
          "Started 2024-05-01T12:30:00Z, 12:30:45, snapshot 20240501",
          "ISBN 978-3-16-148410-0 and ISBN-10 0-306-40615-2",
          "C4, S3, EKS, AKS, A100, H100, GPT-4, GPT-4o",
          "color: #1a2b3c; background: #FF5733",
          "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
          "Contact <EMAIL_1> or <PHONE_2> about <CREDIT_CARD_1>",
          "12345 * 6789 = 83810205",
          "listen on port 8080, range 49152-65535",
          "SKU 4006381333931",
          "Total: $1,299.99, Preis 1.234.567,89 €",
          "arn:aws:iam::123456789012:role/Deploy"
        })
    void commonLookalikesHaveNoFindings(String text) {
      assertThat(scan(text)).isEmpty();
    }
  }
}
