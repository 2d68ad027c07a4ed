package dev.llmgw.it;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal HTTP/1.1 client that sends exactly the headers it is given (no {@code user-agent}, no
 * {@code connection}) and keeps the chunks of a chunked answer apart, so a test knows byte for byte
 * what a server saw and what it sent. One request per connection; the socket is closed afterwards.
 */
final class RawHttp {

  /** One answer: status, headers in arrival order with lower-case names, and the body as framed on the wire. */
  record Response(
      int status, List<Map.Entry<String, String>> headers, List<byte[]> chunks, boolean reset) {

    Response {
      headers = List.copyOf(headers);
      chunks = List.copyOf(chunks);
    }

    byte[] body() {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      chunks.forEach(all::writeBytes);
      return all.toByteArray();
    }
  }

  private RawHttp() {}

  /**
   * Sends {@code method path} with {@code headers} (which must include {@code host} and, for a body,
   * {@code content-length}) and reads the whole answer.
   */
  static Response send(
      String host,
      int port,
      String method,
      String path,
      List<Map.Entry<String, String>> headers,
      byte[] body)
      throws IOException {
    requireNonNull(body, "body");
    try (Socket socket = new Socket(host, port)) {
      socket.setSoTimeout(15_000);
      StringBuilder head =
          new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      for (Map.Entry<String, String> h : headers) {
        head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
      }
      head.append("\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
      out.flush();
      return read(socket.getInputStream(), method.equals("HEAD"));
    }
  }

  private static Response read(InputStream in, boolean head) throws IOException {
    String statusLine = line(in);
    if (statusLine == null) {
      return new Response(0, List.of(), List.of(), true);
    }
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException(
          "status line: " + statusLine + " (expected: HTTP/1.x <status> <reason>)");
    }
    int status = Integer.parseInt(parts[1]);
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    long length = -1;
    boolean chunked = false;
    for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
      int colon = l.indexOf(':');
      String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = l.substring(colon + 1).trim();
      headers.add(Map.entry(name, value));
      if (name.equals("content-length")) {
        length = Long.parseLong(value);
      } else if (name.equals("transfer-encoding")
          && value.toLowerCase(Locale.ROOT).contains("chunked")) {
        chunked = true;
      }
    }
    List<byte[]> chunks = new ArrayList<>();
    boolean reset = false;
    try {
      if (head || status == 204 || status == 304) {
        return new Response(status, headers, chunks, false);
      }
      if (chunked) {
        for (String size = line(in); ; size = line(in)) {
          if (size == null) {
            reset = true;
            break;
          }
          int n = Integer.parseInt(size.split(";", 2)[0].trim(), 16);
          if (n == 0) {
            for (String trailer = line(in);
                trailer != null && !trailer.isEmpty();
                trailer = line(in)) {
              // trailers are not compared
            }
            break;
          }
          byte[] chunk = in.readNBytes(n);
          if (chunk.length < n) {
            reset = true;
            chunks.add(chunk);
            break;
          }
          chunks.add(chunk);
          line(in);
        }
      } else if (length >= 0) {
        byte[] all = in.readNBytes((int) length);
        reset = all.length < length;
        if (all.length > 0) {
          chunks.add(all);
        }
      } else {
        byte[] all = in.readAllBytes();
        if (all.length > 0) {
          chunks.add(all);
        }
      }
    } catch (SocketException e) {
      reset = true;
    }
    return new Response(status, headers, chunks, reset);
  }

  /** A CRLF-terminated line without its terminator, or null at end of stream. */
  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        byte[] bytes = b.toByteArray();
        int n =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }
}
