package dev.sluice.engine;

import java.io.IOException;
import java.net.InetAddress;

/**
 * Who asks for a change to a job, as the audit trail records it ({@code sluice history}).
 *
 * @param via       where the request came from: {@code cli}, {@code api} ({@code serve}'s), {@code page}, {@code
 *                  actuator}, {@code schedule}, {@code serve}, {@code application}, {@code library}, {@code flyway},
 *                  {@code liquibase}
 * @param osUser    the operating-system user of the process that acts
 * @param host      the host that process runs on
 * @param principal the authenticated principal of an HTTP request, or null
 * @param origin    the address an HTTP request came from, or null
 */
public record Actor(String via, String osUser, String host, String principal, String origin) {

    public Actor {
        via = via == null || via.isBlank() ? "library" : via;
    }

    /** This process, its operating-system user and host, acting through {@code via}. */
    public static Actor process(String via) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = null;
        }
        return new Actor(via, System.getProperty("user.name"), host, null, null);
    }

    /** This actor, for an HTTP request: its principal (null: none authenticated) and the address it came from. */
    public Actor request(String via, String principal, String origin) {
        return new Actor(via, osUser, host, principal, origin);
    }

    /** In a line: {@code alice@db-ops-1 (cli)}, {@code ops-team via api from 10.0.0.7}. */
    public String describe() {
        if (principal != null || origin != null) {
            return (principal != null ? principal : "anonymous") + " via " + via
                    + (origin != null ? " from " + origin : "");
        }
        return (osUser != null ? osUser : "?") + (host != null ? "@" + host : "") + " (" + via + ")";
    }
}
