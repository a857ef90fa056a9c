package dev.sluice.engine.spec;

import java.util.Map;

/**
 * What a spec writes, derived from its fields: the one place that reads "which of set, into, transformer and source
 * did the spec give" (the spec's checks make sure exactly one mode is given).
 */
public sealed interface Writes permits Writes.InPlace, Writes.Copy, Writes.CrossDatabaseCopy, Writes.Java {

    /** The kind, for a switch and for messages. */
    JobSpec.Mode mode();

    /**
     * Whether the sync trigger logs the keys the application writes, for a runner to re-apply (a Java transformation
     * or a copy from another database cannot run in a trigger), rather than computing the rows itself.
     */
    default boolean syncLogsKeys() {
        return this instanceof Java || this instanceof CrossDatabaseCopy;
    }

    /** Columns of the table itself set from SQL expressions over its row ({@code set}). */
    record InPlace(Map<String, String> set) implements Writes {
        @Override
        public JobSpec.Mode mode() {
            return JobSpec.Mode.IN_PLACE;
        }
    }

    /** Rows copied into another table of the same database ({@code into} + {@code columns}). */
    record Copy(String into, Map<String, String> columns) implements Writes {
        @Override
        public JobSpec.Mode mode() {
            return JobSpec.Mode.COPY;
        }
    }

    /** Rows copied from a table of another database ({@code source}) into one of the target's. */
    record CrossDatabaseCopy(String into, Map<String, String> columns, JobSpec.Source source) implements Writes {
        @Override
        public JobSpec.Mode mode() {
            return JobSpec.Mode.COPY;
        }
    }

    /** Columns of the table itself computed by a Java transformer. */
    record Java(TransformerSpec transformer) implements Writes {
        @Override
        public JobSpec.Mode mode() {
            return JobSpec.Mode.JAVA;
        }
    }
}
