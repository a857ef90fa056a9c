package dev.sluice.jobs.cli;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import dev.sluice.engine.Mismatch;
import dev.sluice.engine.RuleResult;
import dev.sluice.engine.ValidationResult;

import tools.jackson.databind.json.JsonMapper;

/** Prints a validation's result for people or, with {@code --json}, for machines; gives its exit code. */
final class ValidationReport {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ValidationReport() {}

    static int print(String job, ValidationResult r, boolean json) {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("job", job);
            m.put("complete", r.complete());
            m.put("clean", r.clean());
            m.put("rowsChecked", r.rows());
            m.put("mismatches", r.mismatches());
            m.put("message", Said.validation(r));
            m.put("rules", r.rules().stream().map(ValidationReport::rule).toList());
            System.out.println(JSON.writeValueAsString(m));
        } else {
            // The result in one wording: its counts from the data; why it did not finish goes to standard error.
            System.out.printf(
                    Locale.ROOT,
                    "validation of %s: %,d rows checked in %,d chunks, %.1fs: %s%n",
                    job,
                    r.rows(),
                    r.chunks(),
                    r.seconds(),
                    !r.complete()
                            ? "unfinished"
                            : r.clean() ? "clean" : String.format(Locale.ROOT, "%,d mismatches", r.mismatches()));
            for (RuleResult rule : r.rules()) {
                System.out.printf(Locale.ROOT, "  %-24s %,d mismatches%n", rule.rule(), rule.mismatches());
                for (Mismatch m : rule.samples()) {
                    String key = m.key().size() == 1 ? m.key().get(0) : "(" + String.join(", ", m.key()) + ")";
                    System.out.println(
                            m.target() == null && m.source() == null
                                    ? "    key " + key
                                    : "    key " + key + ": target " + show(m.target()) + ", source "
                                            + show(m.source()));
                }
            }
        }
        if (!r.complete()) {
            System.err.println("sluice: " + Said.validation(r));
            return switch (r.outcome()) {
                case NOT_RUNNABLE -> ExitCode.NOT_RUNNABLE;
                case STOPPED -> ExitCode.STOPPED;
                default -> ExitCode.FAILED;
            };
        }
        return r.mismatches() > 0 ? ExitCode.MISMATCHES : ExitCode.DONE;
    }

    private static Map<String, Object> rule(RuleResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rule", r.rule());
        m.put("rowsChecked", r.checked());
        m.put("mismatches", r.mismatches());
        m.put(
                "samples",
                r.samples().stream()
                        .map(s -> {
                            Map<String, Object> x = new LinkedHashMap<>();
                            x.put("key", s.key().size() == 1 ? s.key().get(0) : s.key());
                            x.put("target", s.target());
                            x.put("source", s.source());
                            return x;
                        })
                        .toList());
        return m;
    }

    private static String show(String value) {
        return value == null ? "NULL" : "'" + value + "'";
    }
}
