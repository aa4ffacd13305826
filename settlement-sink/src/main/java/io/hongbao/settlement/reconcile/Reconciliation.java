package io.hongbao.settlement.reconcile;

import io.hongbao.settlement.reconcile.ReconciliationResult.RoundFigures;
import io.hongbao.settlement.reconcile.ReconciliationResult.TierFigures;
import io.hongbao.settlement.reconcile.ReconciliationResult.Violation;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the settlement tables the way finance does: every {@link Check} over every row, read in one
 * REPEATABLE READ snapshot so the figures agree with each other while a job keeps committing. Read-only.
 *
 * <p>Some checks (duplicate ids, lineage, derived payout ids) are also schema constraints; reconciliation does
 * not trust the schema of the database it is pointed at (a restored copy, a table loaded by hand) and checks
 * them again.
 */
public final class Reconciliation {
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
        try (Statement st = connection.createStatement()) {
            Map<Check, Long> counts = new EnumMap<>(Check.class);
            for (Check c : Check.values()) {
                if (expected != null || !Check.AGAINST_MANIFEST.contains(c)) {
                    counts.put(c, 0L);
                }
            }
            List<Violation> violations = new ArrayList<>();
            Sink sink = new Sink(counts, violations);

            List<RoundFigures> rounds = rounds(st);
            for (RoundFigures r : rounds) {
                if (r.overBudget()) {
                    sink.add(new Violation(Check.OVER_BUDGET, r.roundId(), "round " + r.roundId(),
                            "paid " + r.paidFen() + " fen (" + r.paidYuan() + " yuan) over a budget of " + r.budgetFen()
                                    + " fen (" + r.budgetYuan() + " yuan): " + (-r.remainingFen()) + " fen over"));
                }
            }
            List<TierFigures> tiers = tiers(st);
            for (TierFigures t : tiers) {
                if (t.overCap()) {
                    sink.add(new Violation(Check.TIER_CAP_EXCEEDED, t.roundId(), "round " + t.roundId() + " tier " + t.tierId(),
                            t.payouts() + " packets paid, cap " + t.countCap()));
                }
            }

            query(st, sink, Check.AMOUNT_ABOVE_TIER_MAX, """
                    SELECT p.round_id, p.payout_id, p.amount_fen || ' fen in tier ' || p.tier_id || ' (max_fen '
                           || t.max_fen || ')'
                    FROM payout p JOIN prize_tier t ON t.round_id = p.round_id AND t.tier_id = p.tier_id
                    WHERE p.amount_fen > t.max_fen ORDER BY p.round_id, p.payout_id""");
            query(st, sink, Check.USER_WINS_PER_ROUND_EXCEEDED, """
                    SELECT p.round_id, 'user ' || p.user_id, COUNT(*) || ' wins, wins_per_round ' || r.wins_per_round
                    FROM payout p JOIN round r ON r.round_id = p.round_id
                    GROUP BY p.round_id, p.user_id, r.wins_per_round
                    HAVING COUNT(*) > r.wins_per_round ORDER BY p.round_id, p.user_id""");
            // fen_per_gala is a cap over the whole gala: whatever a user won up to and including round r (rounds
            // in start order) must fit r's cap, the one the job applied when it paid in r.
            query(st, sink, Check.USER_FEN_PER_GALA_EXCEEDED, """
                    WITH per_round AS (
                        SELECT p.user_id, p.round_id, r.starts_at, r.fen_per_gala, SUM(p.amount_fen) AS fen
                        FROM payout p JOIN round r ON r.round_id = p.round_id
                        GROUP BY p.user_id, p.round_id, r.starts_at, r.fen_per_gala),
                    running AS (
                        SELECT user_id, round_id, fen_per_gala,
                               SUM(fen) OVER (PARTITION BY user_id ORDER BY starts_at, round_id) AS gala_fen
                        FROM per_round)
                    SELECT round_id, 'user ' || user_id,
                           gala_fen || ' fen won over the gala up to this round, fen_per_gala ' || fen_per_gala
                    FROM running WHERE gala_fen > fen_per_gala ORDER BY round_id, user_id""");
            query(st, sink, Check.DUPLICATE_PAYOUT_ID, """
                    SELECT MIN(round_id), payout_id, COUNT(*) || ' rows'
                    FROM payout GROUP BY payout_id HAVING COUNT(*) > 1 ORDER BY payout_id""");
            query(st, sink, Check.DUPLICATE_ROUND_EVENT, """
                    SELECT round_id, 'event ' || event_id, COUNT(*) || ' payouts: ' || string_agg(payout_id, ', ')
                    FROM payout GROUP BY round_id, event_id HAVING COUNT(*) > 1 ORDER BY round_id, event_id""");
            query(st, sink, Check.PAYOUT_ID_NOT_DERIVED, """
                    SELECT round_id, payout_id, 'expected r' || round_id || '-' || COALESCE(event_id, '<no event id>')
                    FROM payout WHERE payout_id IS DISTINCT FROM 'r' || round_id || '-' || event_id
                    ORDER BY round_id, payout_id""");
            query(st, sink, Check.MISSING_LINEAGE, """
                    SELECT round_id, payout_id,
                           'event ' || COALESCE(event_id, 'NULL') || ', Kafka record '
                           || COALESCE(kafka_topic, 'NULL') || '/' || COALESCE(kafka_partition::text, 'NULL') || '/'
                           || COALESCE(kafka_offset::text, 'NULL')
                    FROM payout
                    WHERE event_id IS NULL OR event_id !~ '^[0-9a-f]{32}$'
                       OR kafka_topic IS NULL OR kafka_topic = '' OR kafka_partition IS NULL OR kafka_partition < 0
                       OR kafka_offset IS NULL OR kafka_offset < 0
                    ORDER BY round_id, payout_id""");
            query(st, sink, Check.SHARED_KAFKA_RECORD, """
                    SELECT MIN(round_id), kafka_topic || '/' || kafka_partition || '/' || kafka_offset,
                           COUNT(*) || ' payouts: ' || string_agg(payout_id, ', ' ORDER BY payout_id)
                    FROM payout WHERE kafka_topic IS NOT NULL AND kafka_partition IS NOT NULL AND kafka_offset IS NOT NULL
                    GROUP BY kafka_topic, kafka_partition, kafka_offset HAVING COUNT(*) > 1
                    ORDER BY 2""");
            query(st, sink, Check.UNCONFIGURED_ROUND_OR_TIER, """
                    SELECT p.round_id, p.payout_id,
                           CASE WHEN r.round_id IS NULL THEN 'round ' || p.round_id || ' is not configured'
                                ELSE 'round ' || p.round_id || ' has no tier ' || p.tier_id END
                    FROM payout p
                    LEFT JOIN round r ON r.round_id = p.round_id
                    LEFT JOIN prize_tier t ON t.round_id = p.round_id AND t.tier_id = p.tier_id
                    WHERE t.tier_id IS NULL ORDER BY p.round_id, p.payout_id""");
            query(st, sink, Check.LOST_TRANSACTION, """
                    SELECT NULL::int, gid, payouts || ' payouts (' || payout_fen || ' fen) of sink ' || sink_name
                           || ' lost, detected ' || detected_at
                    FROM settlement_lost_transaction ORDER BY detected_at, gid""");
            query(st, sink, Check.QUARANTINED, """
                    SELECT round_id, kind || ' ' || row_key, reason || ': ' || detail
                           || COALESCE(' (existing ' || existing_key || ')', '') || ', lineage ' || lineage
                           || ', sink ' || sink_name || ' subtask ' || subtask || ', detected ' || detected_at
                    FROM settlement_quarantine ORDER BY quarantine_id""");
            if (expected != null) {
                query(st, sink, Check.INTERACTION_COUNT_MISMATCH, "SELECT COALESCE(e.round_id, i.round_id), "
                        + "'round ' || COALESCE(e.round_id, i.round_id), COALESCE(i.shakes, 0) || ' interactions "
                        + "counted, manifest ' || COALESCE(e.shakes, 0) FROM " + expected.shakesValues("e")
                        + " FULL JOIN interaction_round i ON i.round_id = e.round_id "
                        + "WHERE COALESCE(i.shakes, 0) <> COALESCE(e.shakes, 0) ORDER BY 1");
                query(st, sink, Check.REJECT_COUNT_MISMATCH, "SELECT NULL::int, COALESCE(e.reason, c.reason), "
                        + "COALESCE(c.records, 0) || ' rejected, manifest ' || COALESCE(e.records, 0) FROM "
                        + expected.rejectedValues("e") + " FULL JOIN rejected_count c ON c.reason = e.reason "
                        + "WHERE COALESCE(c.records, 0) <> COALESCE(e.records, 0) ORDER BY 2");
            }

            long pending;
            try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM pg_prepared_xacts "
                    + "WHERE database = current_database() AND starts_with(gid, 'hb:')")) {
                rs.next();
                pending = rs.getLong(1);
            }
            connection.commit();
            return new ReconciliationResult(rounds, tiers, counts, violations, pending);
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setReadOnly(false);
            connection.setTransactionIsolation(isolation);
            connection.setAutoCommit(autoCommit);
        }
    }

    private static List<RoundFigures> rounds(Statement st) throws SQLException {
        List<RoundFigures> rounds = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("""
                SELECT r.round_id, r.name, r.budget_fen, COUNT(p.payout_id), COALESCE(SUM(p.amount_fen), 0)
                FROM round r LEFT JOIN payout p ON p.round_id = r.round_id
                GROUP BY r.round_id, r.name, r.budget_fen ORDER BY r.round_id""")) {
            while (rs.next()) {
                rounds.add(new RoundFigures(rs.getInt(1), rs.getString(2), rs.getLong(3), rs.getLong(4),
                        rs.getBigDecimal(5).longValueExact()));
            }
        }
        return rounds;
    }

    private static List<TierFigures> tiers(Statement st) throws SQLException {
        List<TierFigures> tiers = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("""
                SELECT t.round_id, t.tier_id, t.name, t.count_cap, COUNT(p.payout_id), COALESCE(SUM(p.amount_fen), 0)
                FROM prize_tier t LEFT JOIN payout p ON p.round_id = t.round_id AND p.tier_id = t.tier_id
                GROUP BY t.round_id, t.tier_id, t.name, t.count_cap ORDER BY t.round_id, t.tier_id""")) {
            while (rs.next()) {
                tiers.add(new TierFigures(rs.getInt(1), rs.getInt(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                        rs.getBigDecimal(6).longValueExact()));
            }
        }
        return tiers;
    }

    /** Runs a query returning (round id or NULL, subject, detail), one row a violation of {@code check}. */
    private static void query(Statement st, Sink sink, Check check, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                int round = rs.getInt(1);
                Integer roundId = rs.wasNull() ? null : round;
                sink.add(new Violation(check, roundId, rs.getString(2), rs.getString(3)));
            }
        }
    }

    /** Counts every violation and keeps the first few of each check. */
    private final class Sink {
        private final Map<Check, Long> counts;
        private final List<Violation> listed;

        Sink(Map<Check, Long> counts, List<Violation> listed) {
            this.counts = counts;
            this.listed = listed;
        }

        void add(Violation v) {
            long n = counts.merge(v.check(), 1L, Long::sum);
            if (n <= maxListedPerCheck) {
                listed.add(v);
            }
        }
    }
}
