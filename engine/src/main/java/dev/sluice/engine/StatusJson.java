package dev.sluice.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A job's status as one JSON object (a map for any JSON writer): what {@code status --json} prints per line, what
 * {@code serve}'s API and the Spring Boot starter's {@code /actuator/sluice} answer.
 */
public final class StatusJson {

    private StatusJson() {}

    /** A single-column key is its value; a composite key is the list of its column values; none is null. */
    private static Object key(List<String> values) {
        return values.isEmpty() ? null : values.size() == 1 ? values.get(0) : values;
    }

    /** The status as the JSON object {@code status --json} prints. */
    public static Map<String, Object> of(JobStatus s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("job", s.job());
        m.put("state", s.state().name());
        m.put("work", s.work().name().toLowerCase(Locale.ROOT));
        m.put("table", s.table());
        m.put("rowsProcessed", s.rowsProcessed());
        m.put("rowsWritten", s.rowsWritten());
        m.put("rowsEstimated", s.rowsEstimated());
        m.put("progress", Math.round(s.progress() * 10000) / 10000.0);
        m.put("chunks", s.chunks());
        // A single-column key is its value; a composite key is the list of its column values.
        m.put("lastKey", key(s.lastKey()));
        m.put("rowsPerSecond", s.rowsPerSecond());
        m.put("rowsPerSecondLimit", s.rowsPerSecondLimit());
        m.put("walBytesPerSecond", Math.round(s.walBytesPerSecond()));
        m.put("etaSeconds", s.etaSeconds());
        m.put("chunkRows", s.chunkRows());
        m.put("throttleReason", s.throttleReason());
        m.put("lastError", s.lastError());
        if (s.next() != null) {
            m.put("next", next(s.next()));
        }
        m.put("stopReason", s.stopReason());
        m.put("runnerPid", s.runnerPid());
        m.put("runnerHost", s.runner() == null ? null : s.runner().host());
        m.put("runnerBackendPid", s.runner() == null ? null : s.runner().backendPid());
        if (s.validation() != null) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("complete", s.validation().complete());
            v.put("rowsChecked", s.validation().rowsChecked());
            v.put("mismatches", s.validation().mismatches());
            v.put("at", s.validation().at());
            m.put("validation", v);
        }
        if (s.sync() != null) {
            Map<String, Object> sync = new LinkedHashMap<>();
            sync.put("mode", "trigger");
            sync.put("kind", s.sync().kind());
            sync.put("table", s.sync().table());
            sync.put("installed", s.sync().installed());
            sync.put("dropped", s.sync().dropped());
            sync.put("droppedBy", s.sync().droppedBy());
            sync.put("pendingKeys", s.sync().pendingKeys());
            sync.put("oldestPendingSeconds", s.sync().oldestPendingSeconds());
            m.put("sync", sync);
        } else {
            m.put("sync", Map.of("mode", "none", "installed", false));
        }
        if (s.contract() != null) {
            Map<String, Object> contract = new LinkedHashMap<>();
            List<Map<String, Object>> steps = new ArrayList<>();
            for (JobStatus.ContractStep step : s.contract().steps()) {
                Map<String, Object> st = new LinkedHashMap<>();
                st.put("step", step.step());
                st.put("state", step.state());
                st.put("at", step.at());
                steps.add(st);
            }
            contract.put("steps", steps);
            contract.put("purged", s.contract().purged());
            contract.put("undoable", s.contract().undoable());
            m.put("contract", contract);
        }
        if (!s.partitions().isEmpty()) {
            List<Map<String, Object>> parts = new ArrayList<>();
            for (JobStatus.Partition p : s.partitions()) {
                Map<String, Object> part = new LinkedHashMap<>();
                part.put("name", p.name());
                part.put("from", key(p.from()));
                part.put("to", key(p.to()));
                part.put("state", p.state());
                part.put("rows", p.rows());
                part.put("rowsWritten", p.written());
                part.put("chunks", p.chunks());
                part.put("lastKey", key(p.lastKey()));
                if (p.worker() != null) {
                    Map<String, Object> worker = new LinkedHashMap<>();
                    worker.put("host", p.worker().host());
                    worker.put("pid", p.worker().pid());
                    worker.put("backendPid", p.worker().backendPid());
                    part.put("worker", worker);
                }
                parts.add(part);
            }
            m.put("partitions", parts);
        }
        if (s.undo() != null) {
            m.put(
                    "undo",
                    Map.of(
                            "rows",
                            s.undo().rows(),
                            "bytes",
                            s.undo().bytes(),
                            "changedSince",
                            s.undo().changedSince()));
        } else {
            m.put("undo", null);
        }
        return m;
    }

    /** The way on as data: what to do ({@code RESUME}, ...) and to which job; each reader words it. */
    public static Map<String, Object> next(NextStep step) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("action", step.action().name());
        m.put("job", step.job());
        return m;
    }

    /** An audit trail as data ({@code history --json}, {@code serve}'s API), oldest first. */
    public static List<Map<String, Object>> audit(List<AuditEntry> trail) {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (AuditEntry e : trail) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", e.id());
            m.put("at", e.at() == null ? null : e.at().toString());
            m.put("job", e.job());
            m.put("command", e.command());
            m.put("options", e.options());
            m.put("via", e.actor().via());
            m.put("osUser", e.actor().osUser());
            m.put("host", e.actor().host());
            m.put("principal", e.actor().principal());
            m.put("origin", e.actor().origin());
            m.put("databaseUser", e.databaseUser());
            m.put("clientAddress", e.clientAddress());
            m.put("specDigest", e.specDigest());
            m.put("outcome", e.outcome());
            m.put("message", e.message());
            m.put("endedAt", e.ended() == null ? null : e.ended().toString());
            out.add(m);
        }
        return out;
    }
}
