package dev.llmgw.controlplane.xds.validation;

import org.jspecify.annotations.Nullable;

/** Thrown when Envoy YAML or JSON cannot be read as the Envoy type it is meant to be. */
public final class EnvoyConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  EnvoyConfigException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
