package dev.llmgw.controlplane.xds.validation;

/** Thrown when Envoy YAML or JSON cannot be read as the Envoy type it is meant to be. */
public final class EnvoyConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  EnvoyConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
