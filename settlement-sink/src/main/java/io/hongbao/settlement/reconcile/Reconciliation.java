package io.hongbao.settlement.reconcile;

import io.hongbao.settlement.reconcile.ReconciliationResult.CheckResult;
import io.hongbao.settlement.reconcile.ReconciliationResult.Count;
import io.hongbao.settlement.reconcile.ReconciliationResult.ManifestCounts;
import io.hongbao.settlement.reconcile.ReconciliationResult.RoundFigures;
import io.hongbao.settlement.reconcile.ReconciliationResult.RoundSchedule;
import io.hongbao.settlement.reconcile.ReconciliationResult.ScheduleLine;
import io.hongbao.settlement.reconcile.ReconciliationResult.TierFigures;
import io.hongbao.settlement.reconcile.ReconciliationResult.Violation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Reads the reconciliation views of migration V13 ({@code reconciliation_summary}, {@code reconciliation_violation},
 * {@code reconciliation_round}, {@code reconciliation_tier}, {@code settlement_prepared_pending}) and V14's
 * {@code round_schedule} (the schedule as applied), in one
 * REPEATABLE READ snapshot so the figures agree with each other while a job keeps committing. Read-only. The
 * rules themselves live in those views only; what this class adds is the comparison with the generator's
 * manifest, which the database does not have.
 */
public final class Reconciliation {
    /** Each round's interaction count (view interaction_round) equals the manifest's distinct valid shakes. */
    public static final String INTERACTION_COUNT_MISMATCH = "INTERACTION_COUNT_MISMATCH";
    /** Each reason's reject count (table rejected_count) equals the manifest's. */
    public static final String REJECT_COUNT_MISMATCH = "REJECT_COUNT_MISMATCH";

    private final int maxListedPerCheck;
    private ExpectedCounts expected;

    /** {@code maxListedPerCheck}: how many violations of one check the result lists (all are counted). */
    public Reconciliation(int maxListedPerCheck) {
        if (maxListedPerCheck < 0) {
            throw new IllegalArgumentException("maxListedPerCheck must be >= 0");
        }
        this.maxListedPerCheck = maxListedPerCheck;
    }

    public Reconciliation() {
        this(100);
    }

    /** Also compare interaction and reject counts with the generator's manifest. */
    public Reconciliation expecting(ExpectedCounts expectedCounts) {
        this.expected = expectedCounts;
        return this;
    }

    public ReconciliationResult run(Connection connection) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        int isolation = connection.getTransactionIsolation();
        connection.setAutoCommit(false);
        connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        connection.setReadOnly(true);
        try {
            List<RoundFigures> rounds = query(connection, """
                    SELECT round_id, name, budget_fen, payouts, paid_fen, remaining_fen, over_budget, swept
                    FROM reconciliation_round ORDER BY round_id""",
                    rs -> new RoundFigures(rs.getInt(1), rs.getString(2), rs.getLong(3), rs.getLong(4),
                            rs.getBigDecimal(5).longValueExact(), rs.getBigDecimal(6).longValueExact(),
                            rs.getBoolean(7), rs.getBoolean(8)));
            List<TierFigures> tiers = query(connection, """
                    SELECT round_id, tier_id, name, count_cap, payouts, paid_fen, over_cap
                    FROM reconciliation_tier ORDER BY round_id, tier_id""",
                    rs -> new TierFigures(rs.getInt(1), rs.getInt(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                            rs.getBigDecimal(6).longValueExact(), rs.getBoolean(7)));
            List<CheckResult> checks = new ArrayList<>(query(connection, """
                    SELECT check_name, rule, violations FROM reconciliation_summary ORDER BY check_order""",
                    rs -> new CheckResult(rs.getString(1), rs.getString(2), rs.getLong(3))));
            List<Violation> violations = listed(connection);
            long pending = query(connection, "SELECT prepared_transactions FROM settlement_prepared_pending",
                    rs -> rs.getLong(1)).get(0);
            ManifestCounts counts = null;
            if (expected != null) {
                counts = compareWithManifest(connection, checks, violations);
            }
            List<RoundSchedule> schedule = schedule(connection);
            connection.commit();
            return new ReconciliationResult(rounds, tiers, checks, violations, pending, counts, schedule);
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setReadOnly(false);
            connection.setTransactionIsolation(isolation);
            connection.setAutoCommit(autoCommit);
        }
    }

    /** Each round's schedule as applied (view round_schedule: one row per round and schedule line). */
    private static List<RoundSchedule> schedule(Connection connection) throws SQLException {
        Map<Integer, RoundSchedule> rounds = new LinkedHashMap<>();
        try (PreparedStatement st = connection.prepareStatement("""
                SELECT round_id, name, starts_at, ends_at, config_version, registered_starts_at, registered_ends_at,
                       added, line_kind, entry_id, effective_at, detail, source, line_applied, applied_version,
                       old_starts_at, old_ends_at, new_starts_at, new_ends_at
                FROM round_schedule ORDER BY round_id, effective_at, line_committed_at, entry_id""");
                ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
                int id = rs.getInt(1);
                RoundSchedule r = rounds.get(id);
                if (r == null) {
                    r = new RoundSchedule(id, rs.getString(2), instant(rs, 3), instant(rs, 4), rs.getInt(5),
                            instant(rs, 6), instant(rs, 7), rs.getBoolean(8), new ArrayList<>());
                    rounds.put(id, r);
                }
                if (rs.getString(9) != null) {
                    r.lines().add(new ScheduleLine(rs.getString(9), rs.getString(10), instant(rs, 11), rs.getString(12),
                            rs.getString(13), rs.getBoolean(14), rs.getObject(15, Integer.class), instant(rs, 16),
                            instant(rs, 17), instant(rs, 18), instant(rs, 19)));
                }
            }
        }
        List<RoundSchedule> out = new ArrayList<>();
        rounds.values().forEach(r -> out.add(new RoundSchedule(r.roundId(), r.name(), r.startsAt(), r.endsAt(),
                r.configVersion(), r.registeredStartsAt(), r.registeredEndsAt(), r.added(), List.copyOf(r.lines()))));
        return out;
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    /** The first {@link #maxListedPerCheck} violations of each check, in report order. */
    private List<Violation> listed(Connection connection) throws SQLException {
        try (PreparedStatement st = connection.prepareStatement("""
                SELECT check_name, round_id, tier_id, user_id, subject, expected, actual, detail
                FROM (SELECT v.*, c.check_order,
                             row_number() OVER (PARTITION BY v.check_name
                                                ORDER BY v.round_id NULLS FIRST, v.tier_id, v.user_id, v.subject) AS n
                      FROM reconciliation_violation v JOIN reconciliation_check_rule c USING (check_name)) AS numbered
                WHERE n <= ? ORDER BY check_order, n""")) {
            st.setInt(1, maxListedPerCheck);
            try (ResultSet rs = st.executeQuery()) {
                List<Violation> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Violation(rs.getString(1), rs.getObject(2, Integer.class), rs.getObject(3, Integer.class),
                            rs.getObject(4, Long.class), rs.getString(5), rs.getString(6), rs.getString(7),
                            rs.getString(8)));
                }
                return out;
            }
        }
    }

    /**
     * The manifest's figures against the views' ({@code interaction_round}, {@code rejected_count}): a key on
     * either side only counts as 0 on the other, so a round the job never counted fails as surely as a count off
     * by one.
     */
    private ManifestCounts compareWithManifest(Connection connection, List<CheckResult> checks,
            List<Violation> violations) throws SQLException {
        Map<Integer, Long> shakes = new TreeMap<>();
        query(connection, "SELECT round_id, shakes FROM interaction_round", rs -> Map.entry(rs.getInt(1), rs.getLong(2)))
                .forEach(e -> shakes.put(e.getKey(), e.getValue()));
        Map<String, Long> rejected = new TreeMap<>();
        query(connection, "SELECT reason, records FROM rejected_count", rs -> Map.entry(rs.getString(1), rs.getLong(2)))
                .forEach(e -> rejected.put(e.getKey(), e.getValue()));

        List<Count> interactions = compare(shakes, expected.shakesPerRound());
        List<Count> rejects = compare(rejected, expected.rejectedPerReason());
        record(INTERACTION_COUNT_MISMATCH, "each round's interaction count equals the manifest's distinct valid shakes",
                interactions, c -> new Violation(INTERACTION_COUNT_MISMATCH, Integer.valueOf(c.key()), null, null,
                        "round " + c.key(), String.valueOf(c.expected()), String.valueOf(c.counted()),
                        c.counted() + " interactions counted, manifest " + c.expected()), checks, violations);
        record(REJECT_COUNT_MISMATCH, "each reason's reject count equals the manifest's", rejects,
                c -> new Violation(REJECT_COUNT_MISMATCH, null, null, null, c.key(), String.valueOf(c.expected()),
                        String.valueOf(c.counted()), c.counted() + " rejected, manifest " + c.expected()),
                checks, violations);
        return new ManifestCounts(interactions, rejects);
    }

    /** Every key of either side, in order; a key missing on one side counts 0 there. */
    private static <K extends Comparable<K>> List<Count> compare(Map<K, Long> counted, Map<K, Long> expected) {
        TreeSet<K> keys = new TreeSet<>(counted.keySet());
        keys.addAll(expected.keySet());
        List<Count> out = new ArrayList<>();
        for (K k : keys) {
            out.add(new Count(String.valueOf(k), counted.getOrDefault(k, 0L), expected.getOrDefault(k, 0L)));
        }
        return out;
    }

    private void record(String check, String rule, List<Count> counts, Function<Count, Violation> violation,
            List<CheckResult> checks, List<Violation> violations) {
        List<Count> mismatches = counts.stream().filter(c -> !c.matches()).toList();
        checks.add(new CheckResult(check, rule + " (only with a manifest)", mismatches.size()));
        mismatches.stream().limit(maxListedPerCheck).map(violation).forEach(violations::add);
    }

    @FunctionalInterface
    private interface Row<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private static <T> List<T> query(Connection connection, String sql, Row<T> row) throws SQLException {
        try (PreparedStatement st = connection.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
                out.add(row.read(rs));
            }
            return out;
        }
    }
}
