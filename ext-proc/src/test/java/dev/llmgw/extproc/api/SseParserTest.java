package dev.llmgw.extproc.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SseParserTest {

  @Test
  void parsesRecordedOpenAiStreamIntoItsEvents() throws IOException {
    List<SseEvent> events = parseWhole(recorded("openai-chat-stream.sse"));

    assertThat(events).hasSize(6);
    assertThat(events.get(1).data()).contains("\"content\":\"Grüße\"");
    assertThat(events.get(4).data()).contains("\"prompt_tokens\":12");
    assertThat(events.get(5).isDone()).isTrue();
    assertThat(events).allSatisfy(e -> assertThat(e.event()).isEmpty());
  }

  @Test
  void parsesRecordedAnthropicStreamWithCrLfEventNamesAndComments() throws IOException {
    List<SseEvent> events = parseWhole(recorded("anthropic-messages-stream.sse"));

    assertThat(events)
        .extracting(SseEvent::event)
        .containsExactly(
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop");
    assertThat(events.get(3).data()).contains("Hallo 😀");
  }

  @Test
  void anEventSplitAtEveryBytePositionIsReassembledIdentically() throws IOException {
    for (String file : List.of("openai-chat-stream.sse", "anthropic-messages-stream.sse")) {
      ByteString whole = recorded(file);
      List<SseEvent> expected = parseWhole(whole);
      for (int cut = 1; cut < whole.size(); cut++) {
        SseParser parser = new SseParser(1 << 20);
        List<SseEvent> events = new ArrayList<>(parser.feed(whole.substring(0, cut)));
        events.addAll(parser.feed(whole.substring(cut)));
        assertThat(events).as("%s split at byte %d", file, cut).isEqualTo(expected);
        assertThat(parser.hasPartialEvent()).isFalse();
      }
    }
  }

  @Test
  void randomMultiWaySplitsAndSingleByteChunksGiveTheSameEvents() throws IOException {
    ByteString whole = recorded("anthropic-messages-stream.sse");
    List<SseEvent> expected = parseWhole(whole);
    Random random = new Random(42);
    for (int round = 0; round < 200; round++) {
      SseParser parser = new SseParser(1 << 20);
      List<SseEvent> events = new ArrayList<>();
      int pos = 0;
      while (pos < whole.size()) {
        int len = round == 0 ? 1 : 1 + random.nextInt(40);
        int end = Math.min(whole.size(), pos + len);
        events.addAll(parser.feed(whole.substring(pos, end)));
        pos = end;
      }
      assertThat(events).as("round %d", round).isEqualTo(expected);
    }
  }

  @Test
  void handlesAllThreeLineEndingsAndMultiLineData() {
    SseParser parser = new SseParser(1024);
    List<SseEvent> events =
        parser.feed(ByteString.copyFromUtf8("data: a\rdata:b\n\nevent: x\r\ndata: c\r\r"));

    assertThat(events).containsExactly(new SseEvent("", "a\nb", ""), new SseEvent("x", "c", ""));
  }

  @Test
  void remembersUnfinishedEventAtEndOfStream() {
    SseParser parser = new SseParser(1024);
    assertThat(parser.feed(ByteString.copyFromUtf8("data: {\"partial\""))).isEmpty();
    assertThat(parser.hasPartialEvent()).isTrue();
  }

  @Test
  void anEventLargerThanTheLimitIsAnErrorNotUnboundedMemory() {
    SseParser parser = new SseParser(16);
    assertThatThrownBy(() -> parser.feed(ByteString.copyFromUtf8("data: 0123456789abcdef\n\n")))
        .isInstanceOf(SseParser.SseException.class)
        .hasMessageContaining("larger than 16 bytes");
  }

  @Test
  void theLimitCountsAnEventsBytesAcrossChunksButNotItsLineBreaks() {
    SseParser parser = new SseParser(16);
    assertThat(parser.feed(ByteString.copyFromUtf8("data: 01234"))).isEmpty();
    assertThat(parser.feed(ByteString.copyFromUtf8("56789\r\n\r\n")))
        .as("16 bytes of fields: at the limit")
        .containsExactly(new SseEvent("", "0123456789", ""));
    assertThat(parser.feed(ByteString.copyFromUtf8("data: 01234"))).isEmpty();
    assertThatThrownBy(() -> parser.feed(ByteString.copyFromUtf8("\ndata: 5\n")))
        .isInstanceOf(SseParser.SseException.class)
        .hasMessageContaining("larger than 16 bytes");
  }

  @Test
  void chunksLargerThanTheReusedBufferAndSmallerOnesAfterThemGiveTheSameEventsAndBytes() {
    StringBuilder wire = new StringBuilder();
    for (int i = 0; wire.length() <= 2 * SseParser.MAX_SCRATCH_BYTES; i++) {
      wire.append("event: e")
          .append(i)
          .append("\r\ndata: ")
          .append("x".repeat(i % 700))
          .append(i)
          .append("\n\n");
    }
    byte[] bytes = wire.toString().getBytes(StandardCharsets.UTF_8);
    List<SseEvent> expected = parseWhole(ByteString.copyFrom(bytes));
    assertThat(expected).hasSizeGreaterThan(300);
    // One chunk over the limit, then chunks that grow the reused buffer, then one that fits it.
    int[] cuts = {
      0,
      SseParser.MAX_SCRATCH_BYTES + 7,
      SseParser.MAX_SCRATCH_BYTES + 107,
      SseParser.MAX_SCRATCH_BYTES + 4203,
      bytes.length - 5,
      bytes.length
    };
    SseParser parser = new SseParser(1 << 16);
    java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
    List<SseEvent> events = new java.util.ArrayList<>();
    for (int c = 1; c < cuts.length; c++) {
      for (SseParser.Segment s :
          parser.feedSegments(ByteString.copyFrom(bytes, cuts[c - 1], cuts[c] - cuts[c - 1]))) {
        raw.writeBytes(s.raw());
        if (s.event() != null) {
          events.add(s.event());
        }
      }
    }
    raw.writeBytes(parser.drain());
    assertThat(events).isEqualTo(expected);
    assertThat(raw.toByteArray()).isEqualTo(bytes);
  }

  private static List<SseEvent> parseWhole(ByteString body) {
    return new SseParser(1 << 20).feed(body);
  }

  static ByteString recorded(String name) throws IOException {
    try (InputStream in = SseParserTest.class.getResourceAsStream("/recorded/" + name)) {
      assertThat(in).as("test resource /recorded/%s", name).isNotNull();
      return ByteString.readFrom(in);
    }
  }

  @Test
  void segmentsGiveBackEveryByteAndTheSameEventsWhereverTheStreamIsCut() throws IOException {
    for (String name : List.of("openai-chat-stream.sse", "anthropic-messages-stream.sse")) {
      byte[] wire = recorded(name).toByteArray();
      List<SseEvent> expected = parseWhole(ByteString.copyFrom(wire));
      for (int cut = 0; cut <= wire.length; cut++) {
        SseParser parser = new SseParser(1 << 16);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        List<SseEvent> events = new java.util.ArrayList<>();
        for (ByteString chunk : List.of(
            ByteString.copyFrom(wire, 0, cut), ByteString.copyFrom(wire, cut, wire.length - cut))) {
          for (SseParser.Segment s : parser.feedSegments(chunk)) {
            bytes.writeBytes(s.raw());
            if (s.event() != null) {
              events.add(s.event());
            }
          }
        }
        bytes.writeBytes(parser.drain());
        assertThat(bytes.toByteArray()).as("%s cut at %d", name, cut).isEqualTo(wire);
        assertThat(events).as("%s cut at %d", name, cut).isEqualTo(expected);
      }
    }
  }
}
