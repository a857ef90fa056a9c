package dev.sluice.engine.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * One step of a job's {@code contract}, run by {@code finish} once the backfill is done and validated clean: an entry
 * of exactly one kind, written as its key ({@code - not-null: email_lower}, {@code - index: {...}}). Each is run
 * lock-safe, recorded, and reversed by {@code rollback} until {@code finish --purge}.
 *
 * @param notNull      make a column NOT NULL (a validated CHECK spares SET NOT NULL its scan)
 * @param index        build an index concurrently
 * @param check        add a CHECK constraint, NOT VALID, then validate it
 * @param foreignKey   add a foreign key, NOT VALID, then validate it
 * @param dropColumns  set columns aside (renamed), really dropped by {@code finish --purge}
 * @param renameColumn rename a column (the swap at the end of a type change)
 */
public record ContractStep(
        String notNull,
        Index index,
        Check check,
        ForeignKey foreignKey,
        List<String> dropColumns,
        Rename renameColumn) {

    public ContractStep {
        dropColumns = dropColumns == null ? null : List.copyOf(dropColumns);
    }

    /** The kinds of step, as written in a spec. */
    public enum Kind {
        NOT_NULL,
        INDEX,
        CHECK,
        FOREIGN_KEY,
        DROP_COLUMNS,
        RENAME_COLUMN;

        /** The key the step is written with: {@code not-null}, {@code foreign-key}. */
        @JsonValue
        public String written() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * {@code CREATE [UNIQUE] INDEX CONCURRENTLY name ON table (columns | (expression)) [INCLUDE (include)] [WHERE
     * where]}.
     */
    public record Index(
            String name, List<String> columns, String expression, Boolean unique, String where, List<String> include) {
        public Index {
            columns = columns == null ? List.of() : List.copyOf(columns);
            include = include == null ? List.of() : List.copyOf(include);
            unique = unique == null ? Boolean.FALSE : unique;
        }
    }

    /** {@code CHECK (expression)}, added NOT VALID and validated. */
    public record Check(String name, String expression) {}

    /**
     * {@code FOREIGN KEY (columns) REFERENCES references [ON DELETE onDelete]}, added NOT VALID and validated.
     *
     * @param references the referenced table and its columns: {@code public.customers(id)}
     * @param onDelete   no action (the default), restrict, cascade, set null or set default
     */
    public record ForeignKey(String name, List<String> columns, String references, String onDelete) {
        public ForeignKey {
            columns = columns == null ? List.of() : List.copyOf(columns);
        }

        /** The referenced table, as written before its parenthesised columns. */
        public String referencedTable() {
            int open = references == null ? -1 : references.indexOf('(');
            return open < 0 ? references : references.substring(0, open).strip();
        }

        /** The referenced columns, as written inside the parentheses. */
        public List<String> referencedColumns() {
            int open = references == null ? -1 : references.indexOf('(');
            if (open < 0 || !references.strip().endsWith(")")) {
                return List.of();
            }
            String inside =
                    references.strip().substring(open + 1, references.strip().length() - 1);
            List<String> out = new ArrayList<>();
            for (String c : inside.split(",", -1)) {
                out.add(c.strip());
            }
            return out;
        }
    }

    /** {@code RENAME COLUMN from TO to}. */
    public record Rename(String from, String to) {}

    /** The kinds written in this entry: exactly one in a checked spec. */
    public List<Kind> kinds() {
        List<Kind> kinds = new ArrayList<>();
        if (notNull != null) {
            kinds.add(Kind.NOT_NULL);
        }
        if (index != null) {
            kinds.add(Kind.INDEX);
        }
        if (check != null) {
            kinds.add(Kind.CHECK);
        }
        if (foreignKey != null) {
            kinds.add(Kind.FOREIGN_KEY);
        }
        if (dropColumns != null) {
            kinds.add(Kind.DROP_COLUMNS);
        }
        if (renameColumn != null) {
            kinds.add(Kind.RENAME_COLUMN);
        }
        return kinds;
    }

    /** The step's kind. */
    public Kind kind() {
        List<Kind> kinds = kinds();
        if (kinds.size() != 1) {
            throw new IllegalStateException("a contract step of " + kinds.size() + " kinds");
        }
        return kinds.get(0);
    }

    /** A step making {@code column} NOT NULL. */
    public static ContractStep notNull(String column) {
        return new ContractStep(column, null, null, null, null, null);
    }

    /** A step building {@code index}. */
    public static ContractStep of(Index index) {
        return new ContractStep(null, index, null, null, null, null);
    }

    /** A step adding {@code check}. */
    public static ContractStep of(Check check) {
        return new ContractStep(null, null, check, null, null, null);
    }

    /** A step adding {@code foreignKey}. */
    public static ContractStep of(ForeignKey foreignKey) {
        return new ContractStep(null, null, null, foreignKey, null, null);
    }

    /** A step setting {@code columns} aside. */
    public static ContractStep dropColumns(List<String> columns) {
        return new ContractStep(null, null, null, null, columns, null);
    }

    /** A step renaming a column. */
    public static ContractStep of(Rename rename) {
        return new ContractStep(null, null, null, null, null, rename);
    }
}
