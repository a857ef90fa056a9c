package dev.sluice.engine.chunk;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * A chunk's rows sent back in one statement: column {@code c} of every row as one {@code text[]} parameter, which
 * the statement unnests and casts to the column types on the server (its own input functions, exact for every type).
 */
public final class TextArrays {

    private TextArrays() {}

    /**
     * Binds columns {@code 0 .. width-1} of {@code rows} as text arrays from parameter {@code first}.
     *
     * @return the next free parameter index
     */
    public static int bind(Connection c, PreparedStatement ps, int first, List<String[]> rows, int width)
            throws SQLException {
        int p = first;
        for (int col = 0; col < width; col++) {
            String[] column = new String[rows.size()];
            for (int r = 0; r < column.length; r++) {
                column[r] = rows.get(r)[col];
            }
            ps.setArray(p++, c.createArrayOf("text", column));
        }
        return p;
    }
}
