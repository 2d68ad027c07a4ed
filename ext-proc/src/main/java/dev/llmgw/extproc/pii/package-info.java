/**
 * PII and secret detection: e-mail addresses, phone numbers, card numbers, IBANs, US SSNs, IP
 * addresses and credentials with a recognisable shape, found in one pass over the text with cheap
 * triggers and validated by checksums, libphonenumber and commons-validator. See docs/pii.md.
 *
 * <p>Entry point: {@link dev.llmgw.extproc.pii.PiiScanner}.
 */
package dev.llmgw.extproc.pii;
