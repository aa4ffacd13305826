package io.hongbao.dashboards;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** What a panel's SQL returned: the columns with their JDBC types, and the rows. */
record QueryResult(List<Column> columns, List<List<Object>> rows) {
    private static final Set<Integer> NUMERIC = Set.of(Types.BIGINT, Types.INTEGER, Types.SMALLINT, Types.NUMERIC,
            Types.DECIMAL, Types.DOUBLE, Types.REAL, Types.FLOAT);
    private static final Set<Integer> TIMESTAMP = Set.of(Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE);

    record Column(String name, int jdbcType, String typeName) {
        boolean isNumeric() {
            return NUMERIC.contains(jdbcType);
        }

        /** What Grafana accepts as a time column: a timestamp or epoch seconds. */
        boolean isTime() {
            return TIMESTAMP.contains(jdbcType) || isNumeric();
        }

        boolean isText() {
            return jdbcType == Types.VARCHAR || jdbcType == Types.CHAR || "text".equals(typeName);
        }
    }

    static QueryResult run(Connection connection, String sql) throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            List<Column> columns = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                columns.add(new Column(md.getColumnLabel(i), md.getColumnType(i), md.getColumnTypeName(i)));
            }
            List<List<Object>> rows = new ArrayList<>();
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= columns.size(); i++) {
                    row.add(rs.getObject(i));
                }
                rows.add(row);
            }
            return new QueryResult(List.copyOf(columns), rows);
        }
    }

    List<String> columnNames() {
        return columns.stream().map(Column::name).toList();
    }

    int indexOf(String column) {
        return columnNames().indexOf(column);
    }

    Column column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no column " + name + " in " + columnNames()));
    }

    /** Values of one column, in row order. */
    List<Object> values(String column) {
        int i = indexOf(column);
        return rows.stream().map(r -> r.get(i)).toList();
    }
}
