package io.hongbao.settlement.testing;

import io.hongbao.settlement.SettlementDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Small SQL helpers for assertions, each on its own connection (so it sees only committed rows). */
public final class Sql {
    private Sql() {}

    public static long count(SettlementDatabase db, String sql) {
        return longValue(db, sql);
    }

    public static long longValue(SettlementDatabase db, String sql) {
        try (Connection c = db.connect("test"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    public static List<String> strings(SettlementDatabase db, String sql) {
        try (Connection c = db.connect("test"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    public static void execute(SettlementDatabase db, String... statements) {
        try (Connection c = db.connect("test"); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(String.join("; ", statements), e);
        }
    }

    /** The SQLSTATE {@code sql} fails with as {@code db}'s user (connecting included), or null when it succeeds. */
    public static String sqlState(SettlementDatabase db, String sql) {
        try {
            execute(db, sql);
            return null;
        } catch (IllegalStateException e) {
            if (e.getCause() instanceof SQLException cause) {
                return cause.getSQLState();
            }
            throw e;
        }
    }

    /** Gids of prepared transactions in this database. */
    public static List<String> preparedGids(SettlementDatabase db) {
        return strings(db, "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() ORDER BY gid");
    }
}
