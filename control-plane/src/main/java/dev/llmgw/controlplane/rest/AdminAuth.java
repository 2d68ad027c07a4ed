package dev.llmgw.controlplane.rest;

import static java.util.Objects.requireNonNull;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The admin bearer token every protected endpoint checks, in one place. The comparison takes the
 * same time whatever the token given, and the token never appears in a response.
 */
final class AdminAuth {

  private final byte[] token;

  AdminAuth(String token) {
    this.token = requireNonNull(token, "token").getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Whether the request carries {@code Authorization: Bearer <admin token>}. If not, answers 401
   * (no token) or 403 (a wrong one) and returns false. {@code what} names what needs the token in
   * the 401 message, e.g. "writes".
   */
  boolean check(Context ctx, String what) {
    String header = ctx.header("Authorization");
    if (header == null || !header.startsWith("Bearer ")) {
      ctx.header("WWW-Authenticate", "Bearer");
      ApiErrors.error(
          ctx,
          HttpStatus.UNAUTHORIZED,
          "unauthorized",
          "Authorization",
          what + " need an admin token (expected: Authorization: Bearer <token>)");
      return false;
    }
    byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(given, token)) {
      ApiErrors.error(
          ctx, HttpStatus.FORBIDDEN, "forbidden", "Authorization", "the admin token is not valid");
      return false;
    }
    return true;
  }
}
