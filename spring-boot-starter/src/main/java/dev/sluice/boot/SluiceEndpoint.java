package dev.sluice.boot;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sluice.engine.Actor;
import dev.sluice.engine.StatusJson;

import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint;

/**
 * {@code /actuator/sluice}: every job's status ({@code GET}), one job's ({@code GET /actuator/sluice/NAME}), and an
 * operator's {@code pause}, {@code resume}, {@code cancel} and {@code tune} as write operations
 * ({@code POST /actuator/sluice/NAME/pause}; tune with {@code {"rowsPerSecond": N}}). The write operations are
 * Actuator's like any other: exposed only where {@code management.endpoints.web.exposure.include} names
 * {@code sluice}, turned off by {@code management.endpoint.sluice.access=read-only}, and secured by the
 * application's security for {@code /actuator/**}. Pause, cancel and tune reach the runner through the job's mailbox
 * in the database, whichever instance runs it; resume continues the job in this instance, its window permitting.
 */
@WebEndpoint(id = "sluice")
public class SluiceEndpoint {

    private final JobOperations operations;

    public SluiceEndpoint(JobOperations operations) {
        this.operations = operations;
    }

    @ReadOperation
    public List<Map<String, Object>> jobs() throws Exception {
        return operations.list();
    }

    @ReadOperation
    public WebEndpointResponse<Map<String, Object>> job(@Selector String name) throws Exception {
        Map<String, Object> job = operations.one(name);
        return job != null ? new WebEndpointResponse<>(job) : reply(JobOperations.unknown(name));
    }

    /** {@code pause}, {@code resume} or {@code cancel} a job: a POST without a body. */
    @WriteOperation
    public WebEndpointResponse<Map<String, Object>> control(@Selector String name, @Selector String action)
            throws Exception {
        if (action.equals("tune")) {
            return reply(new JobOperations.Reply(
                    400,
                    "tune takes the rate in the path: /actuator/sluice/" + name
                            + "/tune/ROWS_PER_SECOND (0 = unlimited)"));
        }
        return reply(operations.control(name, action, null, asker()));
    }

    /** {@code POST /actuator/sluice/NAME/tune/N}: the job's rate, in rows written per second (0 = unlimited). */
    @WriteOperation
    public WebEndpointResponse<Map<String, Object>> tune(
            @Selector String name, @Selector String action, @Selector String rowsPerSecond) throws Exception {
        if (!action.equals("tune")) {
            return reply(new JobOperations.Reply(404, "unknown action '" + action + "' (tune/N)"));
        }
        if (!rowsPerSecond.matches("\\d{1,18}")) {
            return reply(new JobOperations.Reply(400, JobOperations.RATE + ", got '" + rowsPerSecond + "'"));
        }
        return reply(operations.control(name, "tune", Long.parseLong(rowsPerSecond), asker()));
    }

    /**
     * Who asks, as the audit trail records it: the request's authenticated principal and the address it came from,
     * where a servlet container serves the endpoint. (An operation's parameter would be read from a JSON body: a
     * {@code SecurityContext} parameter would make every POST need one.)
     */
    private Actor asker() {
        return operations.actor(null, CurrentRequest.principal(), CurrentRequest.origin());
    }

    private static WebEndpointResponse<Map<String, Object>> reply(JobOperations.Reply r) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("message", r.said());
        if (r.next() != null) {
            body.put("next", StatusJson.next(r.next()));
        }
        return new WebEndpointResponse<>(body, r.status());
    }
}
