package dev.sluice.engine.chunk;

import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.sluice.engine.keyset.Column;
import dev.sluice.engine.keyset.Keyset;
import dev.sluice.engine.keyset.Table;
import dev.sluice.engine.spi.Transformer;

/**
 * What a job writes, resolved against the catalog and checked by preflight: a value, one kind per mode. The writer
 * that carries it out is made from it here, so that checking a spec and writing rows stay apart. SQL texts in it
 * are ready for JDBC ({@code SqlFragments.forJdbc}).
 */
public sealed interface WritePlan {

    /** The writer that applies this plan to one key range in the chunk's transaction. */
    ChunkWriter writer();

    /** The target columns written, in order. */
    List<Column> targets();

    /** The key the chunks walk, over the table the rows come from. */
    Keyset keyset();

    /** Where the chunks journal what they overwrite, or null ({@code undo: false}). */
    Journal journal();

    /** The same plan without its journal: for planning and the dry run, which must not need the journal's table. */
    WritePlan unjournaled();

    /**
     * The same plan, writing only the rows {@code filter} (SQL over the table, safe for JDBC) also selects: the sync
     * key log's drain re-applies the job to the logged keys alone.
     */
    WritePlan filtered(String filter);

    private static String and(String where, String filter) {
        return where == null ? filter : "(" + where + ") AND (" + filter + ")";
    }

    /** {@code UPDATE table SET col = expr ...} over the chunk's rows. */
    record InPlace(Keyset keyset, Map<Column, String> set, String where, Journal journal) implements WritePlan {
        @Override
        public ChunkWriter writer() {
            return new InPlaceWriter(keyset, set, where, journal);
        }

        @Override
        public WritePlan filtered(String filter) {
            return new InPlace(keyset, set, and(where, filter), journal);
        }

        @Override
        public WritePlan unjournaled() {
            return new InPlace(keyset, set, where, null);
        }

        @Override
        public List<Column> targets() {
            return List.copyOf(set.keySet());
        }
    }

    /**
     * {@code INSERT INTO target ... ON CONFLICT (conflict) DO UPDATE} from the chunk's rows, read in the same
     * database, or in {@code source} (a cross-database copy) when it is not null.
     *
     * @param lockSource whether the chunk locks the rows it reads ({@code FOR SHARE}), so that a write of the
     *                   application to them waits for the chunk and its mirror trigger runs after it
     */
    record Copy(
            Keyset keyset,
            Table target,
            Map<Column, String> columns,
            List<Column> conflict,
            String where,
            DataSource source,
            boolean lockSource,
            Journal journal)
            implements WritePlan {

        @Override
        public ChunkWriter writer() {
            return source == null
                    ? new CopyWriter(keyset, target, columns, conflict, where, lockSource, journal)
                    : new CrossCopyWriter(keyset, source, target, columns, conflict, where, journal);
        }

        @Override
        public WritePlan filtered(String filter) {
            return new Copy(keyset, target, columns, conflict, and(where, filter), source, lockSource, journal);
        }

        @Override
        public WritePlan unjournaled() {
            return new Copy(keyset, target, columns, conflict, where, source, lockSource, null);
        }

        @Override
        public List<Column> targets() {
            return List.copyOf(columns.keySet());
        }
    }

    /** A Java {@link Transformer} over the columns it reads, writing {@code targets}. */
    record Java(
            Keyset keyset,
            Transformer transformer,
            List<Column> reads,
            List<Column> targets,
            String where,
            Journal journal)
            implements WritePlan {

        @Override
        public ChunkWriter writer() {
            return new JavaWriter(keyset, transformer, reads, targets, where, journal);
        }

        @Override
        public WritePlan filtered(String filter) {
            return new Java(keyset, transformer, reads, targets, and(where, filter), journal);
        }

        @Override
        public WritePlan unjournaled() {
            return new Java(keyset, transformer, reads, targets, where, null);
        }
    }
}
