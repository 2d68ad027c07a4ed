package dev.llmgw.controlplane.spend;

/** A spend record breaks a rule of {@code spend.proto}; {@link #field()} names the field at fault. */
public final class InvalidSpendException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String field;

  InvalidSpendException(String field, String problem) {
    super(field + ": " + problem);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
