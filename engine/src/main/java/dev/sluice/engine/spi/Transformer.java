package dev.sluice.engine.spi;

import java.util.List;
import java.util.Map;
import java.util.Set;

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
     * Columns it reads when the table has them, besides {@link #reads()}; where the table has not, a row reads
     * null in them (a country column that a default region stands in for, say).
     */
    default List<String> readsIfPresent() {
        return List.of();
    }

    /**
     * The column names above are the transformer's own: a spec maps each to the table's
     * ({@code columns: { phone: mobile }}), and the engine renames in both directions, so a transformer never knows
     * the table's names.
     *
     * @return the options a spec may give it ({@code with: { default-region: DE }}); any other is refused at
     *         preflight, naming it
     */
    default Set<String> options() {
        return Set.of();
    }

    /**
     * This transformer configured with a spec's options (names from {@link #options()} only, values as written), when
     * the spec gives any. Called at preflight, before anything is written; a bad value throws {@link BadOption}.
     */
    default Transformer with(Map<String, String> options) {
        return this;
    }

    /**
     * Called by preflight, before anything is written: a transformer that cannot work in this process (a key it
     * needs is missing from the environment, say) throws {@link IllegalStateException} (or {@link BadOption},
     * naming the option that points at what is missing) with a one-line reason, and the job is refused instead of
     * failing at its first chunk.
     */
    default void ready() {}

    /**
     * @return the new value of each written column (a missing column keeps its value; null writes SQL NULL), or
     *         null to leave the row as it is
     */
    Map<String, Object> transform(Row row);

    /**
     * How a validation proves this transformer's rows right when the spec gives no {@code validate} rules of its own
     * (rules, when given, are what it checks). Null, the default, for no check of its own: such a job is never
     * validated without rules, and {@code require} refuses it.
     */
    default Check check() {
        return null;
    }

    /** A check a transformer declares of the rows it wrote. */
    enum Check {
        /**
         * Recompute and compare: the transformer runs again over every row (whatever the spec's {@code where}), and
         * what it returns for each written column is compared with what the row holds, as the writer would have
         * stored it. Right for a transformer whose result depends on the columns it reads alone (the same row gives
         * the same values) and which reads none of the columns it writes. A row it returns null for, and a column it
         * leaves out, are not compared.
         */
        RECOMPUTE
    }

    /** One row of a chunk, as the transformer sees it. */
    interface Row {
        /** A column's value as its text form (what PostgreSQL prints), or null. */
        String text(String column);

        /** A column's value as JDBC gives it (numbers, dates, strings; json as text), or null. */
        Object value(String column);
    }

    /** An option's value this transformer cannot work with; preflight names the option in the spec. */
    final class BadOption extends IllegalArgumentException {
        private final String option;

        public BadOption(String option, String reason) {
            super(reason);
            this.option = option;
        }

        public String option() {
            return option;
        }
    }

    /** Finds transformers by the name a spec gives ({@code transformer: phone-e164}). */
    @FunctionalInterface
    interface Catalog {
        Catalog EMPTY = name -> null;

        /** @return the transformer, or null if there is none of that name */
        Transformer find(String name);

        /**
         * Where this catalogue looks, for the message when it knows no transformer of a name ({@code built in:
         * phone-e164, ...}).
         */
        default String searched() {
            return "the transformer catalogue given to the engine";
        }

        /**
         * The catalogues jars on the class path register in
         * {@code META-INF/services/dev.sluice.engine.spi.Transformer$Catalog} (and, until 0.3, under the old name
         * {@code dev.sluice.engine.chunk.Transformer$Catalog}) (a team's own transformers, shipped
         * in a jar of their own), asked in class path order; {@code except} (a catalogue that asks them itself, and
         * must not be asked again by them) is left out. A catalogue that cannot be loaded, or fails looking a name up
         * (an Error among them: a static initializer that throws, a class missing from the class path), is an
         * {@link IllegalStateException} naming its class and jar in one line, at the first lookup.
         */
        static Catalog installed(Class<?> except) {
            return new InstalledCatalogs(except);
        }

        /** The first of {@code catalogs} that knows the name. */
        static Catalog chain(java.util.List<Catalog> catalogs) {
            java.util.List<Catalog> all = java.util.List.copyOf(catalogs);
            return new Catalog() {
                @Override
                public Transformer find(String name) {
                    return all.stream()
                            .map(c -> c.find(name))
                            .filter(java.util.Objects::nonNull)
                            .findFirst()
                            .orElse(null);
                }

                @Override
                public String searched() {
                    return String.join("; ", all.stream().map(Catalog::searched).toList());
                }
            };
        }
    }
}
