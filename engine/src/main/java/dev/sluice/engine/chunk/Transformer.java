package dev.sluice.engine.chunk;

import java.util.List;
import java.util.Map;

/**
 * A transformation written in Java, for what SQL expressions cannot say. The engine reads each chunk's rows by
 * keyset (only the columns {@link #reads()} names; see JavaWriter for how a row changed meanwhile is handled), calls
 * {@link #transform} per row, and
 * writes the results back with one set-based statement per chunk, in the chunk's transaction with its
 * checkpoint. No JDBC in here: rows in, values out. Implementations must be stateless and thread-safe;
 * a {@link Row} is valid during the {@code transform} call that receives it only.
 */
public interface Transformer {

    /** The columns the transformer needs (besides the key). */
    List<String> reads();

    /** The columns it writes; never key columns. */
    List<String> writes();

    /**
     * Called by preflight, before anything is written: a transformer that cannot work in this process (a key it
     * needs is missing from the environment, say) throws {@link IllegalStateException} with a one-line reason, and
     * the job is refused instead of failing at its first chunk.
     */
    default void ready() {
    }

    /**
     * @return the new value of each written column (a missing column keeps its value; null writes SQL NULL), or
     *         null to leave the row as it is
     */
    Map<String, Object> transform(Row row);

    /** One row of a chunk, as the transformer sees it. */
    interface Row {
        /** A column's value as its text form (what PostgreSQL prints), or null. */
        String text(String column);

        /** A column's value as JDBC gives it (numbers, dates, strings; json as text), or null. */
        Object value(String column);
    }

    /** Finds transformers by the name a spec gives ({@code transformer: phone-e164}). */
    @FunctionalInterface
    interface Catalog {
        Catalog EMPTY = name -> null;

        /** @return the transformer, or null if there is none of that name */
        Transformer find(String name);
    }
}
