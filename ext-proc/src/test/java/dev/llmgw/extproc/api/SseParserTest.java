package dev.llmgw.extproc.api;

import static org.assertj.core.api.Assertions.assertThat;

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
  void anEventLargerThanTheLimitIsSkippedAndTheNextOneIsDispatched() {
    SseParser parser = new SseParser(16);

    List<SseEvent> events =
        parser.feed(ByteString.copyFromUtf8("data: 0123456789abcdef\n\ndata: {\"u\":1}\n\n"));

    assertThat(events).containsExactly(new SseEvent("", "{\"u\":1}", ""));
    assertThat(parser.takeSkipped()).isEqualTo(new SseParser.Skipped(1, 22));
    assertThat(parser.takeSkipped()).as("taken").isEqualTo(new SseParser.Skipped(0, 0));
    assertThat(parser.hasPartialEvent()).isFalse();
  }

  @Test
  void theLimitCountsAnEventsBytesAcrossChunksButNotItsLineBreaks() {
    SseParser parser = new SseParser(16);
    assertThat(parser.feed(ByteString.copyFromUtf8("data: 01234"))).isEmpty();
    assertThat(parser.feed(ByteString.copyFromUtf8("56789\r\n\r\n")))
        .as("16 bytes of fields: at the limit")
        .containsExactly(new SseEvent("", "0123456789", ""));
    assertThat(parser.takeSkipped().events()).isZero();
    assertThat(parser.feed(ByteString.copyFromUtf8("event: big\ndata: 01234"))).isEmpty();
    assertThat(parser.feed(ByteString.copyFromUtf8("\ndata: 5\r"))).isEmpty();
    assertThat(parser.hasPartialEvent()).as("inside the skipped event").isTrue();
    // The CR that ended the last line and this LF are one line end: the blank line comes after.
    assertThat(parser.feed(ByteString.copyFromUtf8("\n\r\ndata: after\n\n")))
        .containsExactly(new SseEvent("", "after", ""));
    assertThat(parser.takeSkipped()).isEqualTo(new SseParser.Skipped(1, 10 + 11 + 7));
  }

  @Test
  void segmentsOfAnOversizedEventComeOutAsTheyArriveAndEveryByteIsGivenBack() {
    String small = "event: a\ndata: {\"n\":1}\n\n";
    String big = "event: b\ndata: " + "x".repeat(100) + "\ndata: y\n\n";
    String after = ": keep-alive\n\nevent: c\ndata: {\"n\":3}\r\n\r\n";
    byte[] wire = (small + big + after).getBytes(StandardCharsets.UTF_8);
    for (int cut = 1; cut < wire.length; cut++) {
      SseParser parser = new SseParser(64);
      java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
      List<String> events = new ArrayList<>();
      int oversizedBytes = 0;
      for (int part = 0; part < 2; part++) {
        ByteString chunk = part == 0
            ? ByteString.copyFrom(wire, 0, cut)
            : ByteString.copyFrom(wire, cut, wire.length - cut);
        for (SseParser.Segment s : parser.feedSegments(chunk)) {
          raw.writeBytes(s.raw());
          if (s.oversized()) {
            oversizedBytes += s.raw().length;
            assertThat(s.event()).isNull();
          } else if (s.event() != null) {
            events.add(s.event().event());
          }
        }
        if (part == 0 && cut > small.length() + 70 && cut < small.length() + big.length() - 2) {
          assertThat(parser.drain())
              .as("nothing of the oversized event is held (cut %d)", cut)
              .isEmpty();
        }
      }
      raw.writeBytes(parser.drain());
      assertThat(events).as("cut %d", cut).containsExactly("a", "c");
      assertThat(raw.toByteArray()).as("cut %d", cut).isEqualTo(wire);
      assertThat(oversizedBytes).as("cut %d", cut).isEqualTo(big.length());
      assertThat(parser.takeSkipped().events()).isEqualTo(1);
    }
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
