package dev.llmgw.controlplane.rest;

import static java.util.Objects.requireNonNull;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.jspecify.annotations.Nullable;

/**
 * The REST API's two roles and their bearer tokens, checked in one place: the admin token may read
 * and write, the read-only token (when there is one) may only read. Reads need one of the two unless
 * {@code openReads}.
 * Comparisons take the same time whatever the token given, and no token appears in a response.
 */
public final class AdminAuth {

  private static final String BEARER = "Bearer ";

  private final byte[] adminToken;
  private final byte @Nullable [] readOnlyToken;
  private final boolean openReads;

  /**
   * @param readOnlyToken the read-only role's token, or null for no such role
   * @param openReads whether reads (configuration and spend) need no token at all
   * @throws IllegalArgumentException if the two tokens are the same, which would make the roles one
   */
  public AdminAuth(String adminToken, @Nullable String readOnlyToken, boolean openReads) {
    this.adminToken = requireNonNull(adminToken, "adminToken").getBytes(StandardCharsets.UTF_8);
    this.readOnlyToken =
        readOnlyToken == null ? null : readOnlyToken.getBytes(StandardCharsets.UTF_8);
    if (adminToken.equals(readOnlyToken)) {
      throw new IllegalArgumentException(
          "read-only token: the same as the admin token (expected: a token of its own)");
    }
    this.openReads = openReads;
  }

  /**
   * Whether the request may read: open reads, or the admin or read-only token. If not, answers 401
   * (no token) or 403 (a wrong one) and returns false. {@code what} names what is read, e.g. "reads".
   */
  boolean canRead(Context ctx, String what) {
    if (openReads) {
      return true;
    }
    return role(ctx, what, "an admin or read-only token") != null;
  }

  /**
   * Whether the request may write: the admin token. If not, answers 401 (no token) or 403 (a wrong
   * one, or the read-only token) and returns false. {@code what} names the writes, e.g. "writes".
   */
  boolean canWrite(Context ctx, String what) {
    Role role = role(ctx, what, "the admin token");
    if (role == Role.READ_ONLY) {
      ApiErrors.error(
          ctx,
          HttpStatus.FORBIDDEN,
          "forbidden",
          "Authorization",
          "the read-only token cannot be used for " + what + " (expected: the admin token)");
      return false;
    }
    return role == Role.ADMIN;
  }

  private enum Role {
    ADMIN,
    READ_ONLY
  }

  /** The role the request's token has; null after answering 401 or 403. */
  private @Nullable Role role(Context ctx, String what, String expected) {
    String header = ctx.header("Authorization");
    // RFC 9110 section 11.1: the scheme is case-insensitive ("bearer" is "Bearer").
    if (header == null
        || header.length() <= BEARER.length()
        || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      ctx.header("WWW-Authenticate", "Bearer");
      ApiErrors.error(
          ctx,
          HttpStatus.UNAUTHORIZED,
          "unauthorized",
          "Authorization",
          what + " need " + expected + " (expected: Authorization: Bearer <token>)");
      return null;
    }
    byte[] given = header.substring(BEARER.length()).trim().getBytes(StandardCharsets.UTF_8);
    // Both comparisons always run, so the time taken does not tell which role a token is close to.
    boolean admin = MessageDigest.isEqual(given, adminToken);
    boolean readOnly = readOnlyToken != null && MessageDigest.isEqual(given, readOnlyToken);
    if (admin || readOnly) {
      return admin ? Role.ADMIN : Role.READ_ONLY;
    }
    ApiErrors.error(
        ctx, HttpStatus.FORBIDDEN, "forbidden", "Authorization", "the bearer token is not valid");
    return null;
  }
}
