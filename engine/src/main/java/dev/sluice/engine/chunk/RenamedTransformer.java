package dev.sluice.engine.chunk;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import dev.sluice.engine.spi.Transformer;

/**
 * A transformer seen through a spec's column mapping: the engine reads and writes the table's columns, the
 * transformer sees its own names. A column it reads only when present, and which the table does not have, reads
 * as null.
 */
public final class RenamedTransformer implements Transformer {

    private final Transformer inner;
    private final Map<String, String> tableColumn;
    private final List<String> reads;
    private final List<String> writes;
    private final Set<String> ownWrites;

    /**
     * @param tableColumn the table's column for each of the transformer's names it reads or writes; a name it reads
     *                    if present that is absent here reads as null
     */
    public RenamedTransformer(Transformer inner, Map<String, String> tableColumn) {
        this.inner = inner;
        this.tableColumn = Map.copyOf(tableColumn);
        this.reads = Stream.concat(inner.reads().stream(), inner.readsIfPresent().stream())
                .filter(tableColumn::containsKey)
                .map(tableColumn::get)
                .distinct()
                .toList();
        this.writes = inner.writes().stream().map(tableColumn::get).toList();
        this.ownWrites = Set.copyOf(inner.writes());
    }

    @Override
    public List<String> reads() {
        return reads;
    }

    @Override
    public List<String> writes() {
        return writes;
    }

    @Override
    public void ready() {
        inner.ready();
    }

    @Override
    public Check check() {
        return inner.check();
    }

    @Override
    public Map<String, Object> transform(Row row) {
        Map<String, Object> out = inner.transform(new Row() {
            @Override
            public String text(String column) {
                String c = tableColumn.get(column);
                return c == null ? null : row.text(c);
            }

            @Override
            public Object value(String column) {
                String c = tableColumn.get(column);
                return c == null ? null : row.value(c);
            }
        });
        if (out == null) {
            return null;
        }
        // A value for a column it does not declare is left out, as the engine does without renaming.
        Map<String, Object> renamed = new HashMap<>();
        out.forEach((own, value) -> {
            if (ownWrites.contains(own)) {
                renamed.put(tableColumn.get(own), value);
            }
        });
        return renamed;
    }
}
