package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Applies processor mutations the way {@code MutationUtils} does
 * (source/extensions/filters/http/ext_proc/mutation_utils.cc, Envoy 1.34):
 *
 * <ul>
 *   <li>removals first, then sets, each checked by {@link MutationChecker};</li>
 *   <li>a set uses {@code raw_value} only ({@code send_header_raw_value} is on by default), so a
 *       processor that fills {@code value} instead sets the header to the empty string; setting both is
 *       an error;</li>
 *   <li>the deprecated {@code append} flag decides add-versus-overwrite, default false (overwrite);
 *       {@code append_action} is not read by the ext_proc filter in 1.34 (envoyproxy/envoy#36982);</li>
 *   <li>{@code content-length} sets are skipped when the body mode makes Envoy drop that header;</li>
 *   <li>more removals or sets than the header count limit, or a result over the count or size limit,
 *       is an error.</li>
 * </ul>
 */
final class Mutations {

  /** Where the run records notes and counters. */
  interface Reporter {
    void note(String note);

    void count(String stat);
  }

  private final MutationChecker checker;
  private final int maxHeadersCount;
  private final int maxHeadersKb;
  private final Reporter reporter;

  Mutations(MutationChecker checker, int maxHeadersCount, int maxHeadersKb, Reporter reporter) {
    this.checker = requireNonNull(checker, "checker");
    this.maxHeadersCount = maxHeadersCount;
    this.maxHeadersKb = maxHeadersKb;
    this.reporter = requireNonNull(reporter, "reporter");
  }

  /**
   * {@code MutationUtils::applyHeaderMutations}.
   *
   * @param replacingMessage the reply's status is CONTINUE_AND_REPLACE, which also allows {@code :method}
   * @param removeContentLength the body mode makes Envoy remove {@code content-length}
   * @param where which reply this is, for notes
   */
  Outcome applyHeaders(
      HeaderMutation mutation,
      MutableHeaders headers,
      boolean replacingMessage,
      boolean removeContentLength,
      String where) {
    int removes = mutation.getRemoveHeadersCount();
    int sets = mutation.getSetHeadersCount();
    if (removes > maxHeadersCount || sets > maxHeadersCount) {
      reporter.count("rejected_header_mutations");
      return Outcome.error(
          "Header mutation remove header count " + removes + " or set header count " + sets
              + " exceed the HCM header countlimit " + maxHeadersCount);
    }
    for (String raw : mutation.getRemoveHeadersList()) {
      if (!MutationChecker.headerNameIsValid(raw)) {
        reporter.count("rejected_header_mutations");
        return Outcome.error("Invalid character in remove_headers mutation.");
      }
      String name = raw.toLowerCase(Locale.ROOT);
      switch (checker.check(MutationChecker.Operation.REMOVE, name, "")) {
        case OK -> headers.remove(name);
        case IGNORE -> {
          reporter.count("rejected_header_mutations");
          reporter.note(
              where + ": removal of '" + name + "' ignored (disallowed by the mutation rules)");
        }
        case FAIL -> {
          reporter.count("rejected_header_mutations");
          return Outcome.error("Invalid attempt to remove " + name);
        }
      }
    }
    for (HeaderValueOption option : mutation.getSetHeadersList()) {
      if (!option.hasHeader()) {
        continue;
      }
      String key = option.getHeader().getKey();
      if (removeContentLength && key.equalsIgnoreCase("content-length")) {
        reporter.note(
            where + ": set of content-length skipped (Envoy removes it in this body mode)");
        continue;
      }
      String value = option.getHeader().getValue();
      ByteString rawValue = option.getHeader().getRawValue();
      if (!value.isEmpty() && !rawValue.isEmpty()) {
        reporter.count("rejected_header_mutations");
        return Outcome.error(
            "Only one of value or raw_value in the HeaderValue message should be set.");
      }
      if (!value.isEmpty()) {
        reporter.note(
            where + ": '" + key + "' has value but no raw_value; Envoy reads raw_value only,"
                + " so the header is set to the empty string");
      }
      String headerValue = rawValue.toString(StandardCharsets.UTF_8);
      if (!MutationChecker.headerNameIsValid(key)
          || !MutationChecker.headerValueIsValid(headerValue)) {
        reporter.count("rejected_header_mutations");
        return Outcome.error("Invalid character in set_headers mutation.");
      }
      String name = key.toLowerCase(Locale.ROOT);
      if (!option.hasAppend()
          && option.getAppendAction()
              != HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD) {
        reporter.note(
            where + ": append_action " + option.getAppendAction() + " on '" + name
                + "' is not read by Envoy 1.34's ext_proc filter; it overwrites (set append=true to add a value)");
      }
      boolean append = option.hasAppend() && option.getAppend().getValue();
      MutationChecker.Operation op = append && headers.contains(name)
          ? MutationChecker.Operation.APPEND
          : MutationChecker.Operation.SET;
      MutationChecker.Result result = checker.check(op, name, headerValue);
      if (replacingMessage && name.equals(":method")) {
        result = MutationChecker.Result.OK;
      }
      switch (result) {
        case OK -> {
          if (append) {
            headers.add(name, headerValue);
          } else {
            headers.set(name, headerValue);
          }
        }
        case IGNORE -> {
          reporter.count("rejected_header_mutations");
          reporter.note(
              where + ": change of '" + name + "' ignored (disallowed by the mutation rules)");
        }
        case FAIL -> {
          reporter.count("rejected_header_mutations");
          return Outcome.error("Invalid attempt to modify " + name);
        }
      }
    }
    if (headers.byteSize() > maxHeadersKb * 1024L || headers.size() > maxHeadersCount) {
      reporter.count("rejected_header_mutations");
      return Outcome.error(
          "Header mutation causes end result header count " + headers.size() + " or header size "
              + headers.byteSize() + " bytes, exceeding the count limit " + maxHeadersCount
              + " or the size limit "
              + maxHeadersKb + " kilobytes");
    }
    return Outcome.ok();
  }

  /** {@code MutationUtils::applyBodyMutations}: replace, clear, or (for any other case) leave as is. */
  static ByteString applyBody(BodyMutation mutation, ByteString body) {
    return switch (mutation.getMutationCase()) {
      case BODY -> mutation.getBody();
      case CLEAR_BODY -> mutation.getClearBody() ? ByteString.EMPTY : body;
      default -> body;
    };
  }
}
