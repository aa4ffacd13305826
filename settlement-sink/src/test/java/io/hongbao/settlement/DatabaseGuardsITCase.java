package io.hongbao.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.hongbao.money.Round;
import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import io.hongbao.settlement.testing.Records;
import io.hongbao.settlement.testing.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The settlement database guarding the money by itself, tried as a hostile insider would, without the job: every
 * statement a login must not run, as every login; and the money rules through the job's own write functions
 * (settlement_write_payouts and friends), which the database refuses (aggregate rules, at PREPARE) or does not
 * write (per-row rules: the writer quarantines those).
 */
class DatabaseGuardsITCase {
    private static final String INSUFFICIENT_PRIVILEGE = "42501";
    private static final String WRITE_PAYOUTS = "SELECT row_key, outcome FROM settlement_write_payouts(?::text[], "
            + "?::int4[], ?::int4[], ?::int8[], ?::int8[], ?::text[], ?::text[], ?::int4[], ?::int8[], ?::int8[])";
    private static final String WRITE_LEDGER = "SELECT row_key, outcome FROM settlement_write_ledger(?::text[], "
            + "?::int4[], ?::text[], ?::int8[], ?::int8[], ?::text[], ?::int8[], ?::text[])";

    /** What a hostile login tries directly on the tables; each must be refused for lack of privilege. */
    private static final List<String> FORBIDDEN = List.of(
            "INSERT INTO prize_tier VALUES (1, 99, 'forged', 1, 1000000, 1000, 1)",
            // 1,000 invented payouts of 1,000,000 fen in an invented tier 99
            "INSERT INTO payout (payout_id, round_id, tier_id, user_id, amount_fen, event_id, kafka_topic, "
                    + "kafka_partition, kafka_offset, shake_event_time) SELECT 'r1-' || lpad(to_hex(g), 32, '0'), 1, 99, "
                    + "g, 1000000, lpad(to_hex(g), 32, '0'), 'forged', 0, g, now() FROM generate_series(1, 1000) g",
            "UPDATE prize_tier SET max_fen = 100000000",
            "UPDATE round SET budget_fen = budget_fen * 100 WHERE round_id = 1",
            "INSERT INTO round_ledger (entry_id, round_id, kind, amount_fen, budget_fen_after, effective_at, source) "
                    + "VALUES ('forged', 1, 'BUDGET_RAISED', 1, 10000001, now(), 'forged')",
            "INSERT INTO campaign (name, budget_fen) VALUES ('forged', 9000000000000000000)",
            // a commit marker that passes a rolled-back transaction off as committed
            "INSERT INTO settlement_commit (gid, sink_name, subtask, after_checkpoint_id, attempt_nonce, payouts, "
                    + "ledger_entries, payout_fen) VALUES ('hb:payouts:0:7:abc:0', 'payouts', 0, 7, 'abc', 0, 0, 0)",
            "INSERT INTO settlement_lost_transaction (gid, sink_name, payouts, payout_fen) "
                    + "VALUES ('hb:payouts:0:7:abc:1', 'payouts', 0, 0)",
            "INSERT INTO settlement_quarantine (kind, row_key, reason, detail, row_data, lineage, sink_name, subtask) "
                    + "VALUES ('payout', 'r1-x', 'KEY_LOCKED', 'forged', '{}', 't/0/1', 'payouts', 0)",
            "UPDATE interaction_count SET shakes = shakes + 1000000",
            "INSERT INTO interaction_count (round_id, minute_start, channel, region, shakes) "
                    + "VALUES (1, '2026-02-16T12:01:00Z', 'ios', 'CN-GD', 1000000)",
            "UPDATE rejected_count SET records = 0",
            "INSERT INTO payout_tally (round_id, tier_id, payouts, paid_fen, user_ids) VALUES (1, 1, 1, 1, '{}')",
            "CREATE TEMP TABLE scratch (id INT)",
            "CREATE TABLE public.shadow_payout (id INT)");

    @ParameterizedTest
    @ValueSource(strings = {"hongbao_writer", "hongbao_finance", "hongbao_grafana"})
    void shouldRefuseEveryForbiddenStatementToEveryLogin(String role) throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("guards_" + role.substring(8));
        Sql.execute(db, "INSERT INTO interaction_count (round_id, minute_start, channel, region, shakes) "
                + "VALUES (1, '2026-02-16T12:00:00Z', 'ios', 'CN-GD', 5)", "INSERT INTO rejected_count VALUES ('X', 3)");
        SettlementDatabase login = EmbeddedSettlementDb.asMemberOf(db, role);

        // Soft: every statement is tried, and every one that is not refused is listed.
        SoftAssertions soft = new SoftAssertions();
        for (String sql : FORBIDDEN) {
            soft.assertThat(Sql.sqlState(login, sql)).as("%s: %s", role, sql).isEqualTo(INSUFFICIENT_PRIVILEGE);
        }
        if (!role.equals("hongbao_writer")) {
            // The readers may not even use the job's write path.
            for (String call : List.of("SELECT settlement_apply_round_config(1, 20000000, false, 9)",
                    "SELECT settlement_apply_reject_count('X', 0)",
                    "SELECT settlement_record_lost_transaction('hb:payouts:0:7:abc:1', 'payouts', 0, 0)",
                    "SELECT settlement_write_interaction_counts('{1}', '{2026-02-16T12:00:00Z}', '{ios}', '{CN-GD}', "
                            + "'{1000000}')")) {
                soft.assertThat(Sql.sqlState(login, call)).as("%s: %s", role, call).isEqualTo(INSUFFICIENT_PRIVILEGE);
            }
        }
        // Another settlement database on the same server, with logins of its own: this one's may not connect.
        SettlementDatabase other = EmbeddedSettlementDb.migratedDatabase("guards_other_" + role.substring(8));
        EmbeddedSettlementDb.asMemberOf(other, role);
        SettlementDatabase intruder = SettlementDatabase.of(other.jdbcUrl(), login.user(), null);
        soft.assertThat(Sql.sqlState(intruder, "SELECT 1")).as("%s connects to %s", login.user(), other.jdbcUrl())
                .isEqualTo(INSUFFICIENT_PRIVILEGE);
        soft.assertAll();

        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isZero();
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM prize_tier")).isEqualTo(4);
        assertThat(Sql.count(db, "SELECT budget_fen FROM round WHERE round_id = 1")).isEqualTo(10_000_000);
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM round_ledger")).isZero();
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM settlement_commit")).isZero();
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM settlement_lost_transaction")).isZero();
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM settlement_quarantine")).isZero();
        assertThat(Sql.count(db, "SELECT SUM(shakes) FROM interaction_count")).isEqualTo(5);
        assertThat(Sql.count(db, "SELECT records FROM rejected_count")).isEqualTo(3);
    }

    @Test
    void shouldNotWritePayoutsOfAnUnknownTierOrOutsideTheTiersRange() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("guards_per_row");
        SettlementDatabase job = EmbeddedSettlementDb.asJob(db);
        try (Connection c = job.connect("test")) {
            c.setAutoCommit(false);
            List<Payout> forged = new ArrayList<>();
            for (int n = 1; n <= 1_000; n++) {
                forged.add(new Payout(1, 99, n, 1_000_000, n));
            }
            assertThat(writePayouts(c, forged).values()).hasSize(1_000).containsOnly("UNKNOWN_TIER");
            assertThat(writePayouts(c, List.of(new Payout(1, 1, 7, 1_001, 2_000), new Payout(1, 1, 8, 0, 2_001),
                    new Payout(1, 1, 9, 1_000, 2_002)))).containsOnly(
                    Map.entry(payoutId(1, 2_000), "AMOUNT_OUT_OF_RANGE"), Map.entry(payoutId(1, 2_001),
                            "AMOUNT_OUT_OF_RANGE"), Map.entry(payoutId(1, 2_002), "INSERTED"));
            c.commit();
        }
        assertThat(Sql.strings(db, "SELECT payout_id || ' ' || amount_fen FROM payout"))
                .containsExactly(payoutId(1, 2_002) + " 1000");
    }

    @Test
    void shouldRefuseAPayoutOverTheRoundsBudgetAtPrepare() throws Exception {
        SettlementDatabase db = gala("guards_budget", 1_000, 100, 10, 1_000_000);
        SettlementDatabase job = EmbeddedSettlementDb.asJob(db);
        try (Connection c = job.connect("test")) {
            c.setAutoCommit(false);
            // Over the budget in one transaction: the rows go in, the PREPARE refuses the whole transaction.
            writePayouts(c, List.of(new Payout(1, 1, 1, 600, 1), new Payout(1, 1, 2, 401, 2)));
            assertThat(prepare(c, "guards-1")).isEqualTo("HB101");
            // Within it: prepared and committed.
            writePayouts(c, List.of(new Payout(1, 1, 1, 600, 1)));
            assertThat(prepare(c, "guards-2")).isNull();
            commitPrepared(c, "guards-2");
            // Split over a second transaction: it sees the first's committed rows.
            writePayouts(c, List.of(new Payout(1, 1, 2, 401, 2)));
            assertThat(prepare(c, "guards-3")).isEqualTo("HB101");
            // A plain COMMIT runs the same check.
            writePayouts(c, List.of(new Payout(1, 1, 3, 401, 3)));
            assertThat(sqlState(() -> c.commit())).isEqualTo("HB101");
            c.rollback();
        }
        assertThat(Sql.count(db, "SELECT SUM(amount_fen) FROM payout")).isEqualTo(600);
        assertThat(Sql.preparedGids(db)).isEmpty();
    }

    @Test
    void shouldRefuseAPayoutOverTheTierCapAtPrepare() throws Exception {
        SettlementDatabase db = gala("guards_tier_cap", 1_000_000, 3, 10, 1_000_000);
        try (Connection c = EmbeddedSettlementDb.asJob(db).connect("test")) {
            c.setAutoCommit(false);
            writePayouts(c, List.of(new Payout(1, 1, 1, 10, 1), new Payout(1, 1, 2, 10, 2), new Payout(1, 1, 3, 10, 3)));
            writePayouts(c, List.of(new Payout(1, 1, 4, 10, 4)));
            assertThat(prepare(c, "guards-cap")).isEqualTo("HB102");
        }
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isZero();
    }

    @Test
    void shouldRefuseAUserOverTheirCapsAtPrepare() throws Exception {
        SettlementDatabase db = gala("guards_user_caps", 1_000_000, 1_000, 2, 1_500);
        try (Connection c = EmbeddedSettlementDb.asJob(db).connect("test")) {
            c.setAutoCommit(false);
            writePayouts(c, List.of(new Payout(1, 1, 7, 10, 1), new Payout(1, 1, 7, 10, 2), new Payout(1, 1, 7, 10, 3)));
            assertThat(prepare(c, "guards-wins")).as("3 wins, wins_per_round 2").isEqualTo("HB103");
            writePayouts(c, List.of(new Payout(1, 1, 7, 800, 1)));
            c.commit();
            writePayouts(c, List.of(new Payout(1, 1, 7, 701, 2)));
            assertThat(prepare(c, "guards-fen")).as("1,501 fen, fen_per_gala 1,500").isEqualTo("HB104");
        }
        assertThat(Sql.count(db, "SELECT SUM(amount_fen) FROM payout WHERE user_id = 7")).isEqualTo(800);
    }

    @Test
    void shouldMoveABudgetOnlyWithItsLedgerLineAndWithinTheCampaign() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedDatabase("guards_budget_moves");
        RoundCatalog.register(db, new RoundCatalog.Campaign("guards", 25_000_000), Records.referenceRounds());
        try (Connection c = EmbeddedSettlementDb.asJob(db).connect("test")) {
            assertThat(sqlState(c, "SELECT settlement_apply_round_config(1, 12000000, false, 1)"))
                    .as("no ledger line").isEqualTo("HB201");
            assertThat(sqlState(c, "SELECT settlement_register_tier(1, 99, 'forged', 1, 1000000, 1000, 1)"))
                    .as("a tier for a round that exists").isEqualTo("HB203");
            c.setAutoCommit(false);
            assertThat(writeLedger(c, "raise-1", 1, 12_000_000)).isEqualTo("INSERTED");
            c.commit();
            c.setAutoCommit(true);
            assertThat(strings(c, "SELECT settlement_apply_round_config(1, 12000000, false, 1)::text"))
                    .containsExactly("true");
            // Round 2 holds 10,000,000 fen: a raise of round 1 to 15,000,001 passes the campaign's 25,000,000.
            c.setAutoCommit(false);
            assertThat(sqlState(() -> writeLedger(c, "raise-2", 1, 15_000_001))).isEqualTo("HB202");
            c.rollback();
            // Once the database has paid, its reference data is closed.
            writePayouts(c, List.of(new Payout(2, 1, 1, 1_000, 1)));
            c.commit();
            assertThat(sqlState(c, "SELECT settlement_register_round(9, 'forged', now(), now() + interval '1 hour', "
                    + "1, 1000000, 1, 1, false, 0)")).as("a round once the database has paid").isEqualTo("HB203");
            c.rollback();
        }
        assertThat(Sql.count(db, "SELECT budget_fen FROM round WHERE round_id = 1")).isEqualTo(12_000_000);
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM round")).isEqualTo(2);
    }

    // Round 1 of Records.referenceRounds(): [12:00, 12:10) on 2026-02-16.
    private static final long MINUTE_MS = 60_000L;
    private static final long START = Records.ROUND_START_MS;
    private static final long END = START + 10 * MINUTE_MS;

    @Test
    void shouldMoveAWindowOnlyWithAnUnusedRescheduledLineNeverRetroactively() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("guards_window");
        try (Connection c = EmbeddedSettlementDb.asJob(db).connect("test")) {
            // Extend round 1 by ten minutes: [12:00, 12:10) -> [12:00, 12:20).
            assertThat(sqlState(c, applyWindow(1, START, END + 10 * MINUTE_MS)))
                    .as("no RESCHEDULED line").isEqualTo("HB204");
            c.setAutoCommit(false);
            // A line taking effect at 12:15, after the old end: re-opening a closed window, retroactively.
            writeLedger(c, "change-late", 1, "RESCHEDULED", 0, 10_000_000, END + 5 * MINUTE_MS);
            c.commit();
            c.setAutoCommit(true);
            assertThat(sqlState(c, applyWindow(1, START, END + 10 * MINUTE_MS)))
                    .as("effective after the old end").isEqualTo("HB205");
            c.setAutoCommit(false);
            writeLedger(c, "change-extend", 1, "RESCHEDULED", 0, 10_000_000, END - MINUTE_MS);
            c.commit();
            c.setAutoCommit(true);
            assertThat(strings(c, applyWindow(1, START, END + 10 * MINUTE_MS) + "::text")).containsExactly("true");
            // The used line allows no second move: opening early, 12:00 -> 11:55, is before both lines.
            assertThat(sqlState(c, "SELECT settlement_apply_round_config(1, 10000000, false, 2, '"
                    + Records.ROUND_START.minusSeconds(300) + "', '" + Records.ROUND_START.plusSeconds(1200) + "')"))
                    .as("the only line early enough is used").isEqualTo("HB205");
            assertThat(sqlState(c, "SELECT settlement_apply_round_config(1, 10000000, false, 2, '"
                    + Records.ROUND_START.plusSeconds(1200) + "', '" + Records.ROUND_START.plusSeconds(1200) + "')"))
                    .as("ends_at > starts_at").isEqualTo("23514");
        }
        // Not the job's login either: the owner's hand-made update passes the same trigger.
        assertThat(Sql.sqlState(db, "UPDATE round SET ends_at = ends_at + interval '1 hour' WHERE round_id = 2"))
                .isEqualTo("HB204");
        assertThat(Sql.sqlState(db, "UPDATE round SET name = 'renamed' WHERE round_id = 1")).isEqualTo("HB203");
        assertThat(Sql.strings(db, "SELECT (ends_at AT TIME ZONE 'UTC') || ' v' || config_version FROM round "
                + "WHERE round_id = 1"))
                .containsExactly("2026-02-16 12:20:00 v1");
        assertThat(Sql.strings(db, "SELECT entry_id || ' ' || (old_ends_at AT TIME ZONE 'UTC') || ' -> ' "
                + "|| (new_ends_at AT TIME ZONE 'UTC') "
                + "FROM round_schedule_change")).containsExactly(
                "change-extend 2026-02-16 12:10:00 -> 2026-02-16 12:20:00");
        assertThat(Sql.strings(db, "SELECT entry_id || ' ' || line_applied || ' ' "
                + "|| (registered_ends_at AT TIME ZONE 'UTC') "
                + "FROM round_schedule WHERE round_id = 1 ORDER BY entry_id")).containsExactly(
                "change-extend true 2026-02-16 12:10:00", "change-late false 2026-02-16 12:10:00");
    }

    @Test
    void shouldAddARoundOnlyWithItsRoundAddedLineCopiedTiersAndWithinTheCampaign() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("guards_added_round");
        long start = START + 3 * Records.ONE_HOUR_MS;
        try (Connection c = EmbeddedSettlementDb.asJob(db).connect("test")) {
            c.setAutoCommit(false);
            // Round 1 has paid: settlement_register_round is closed, and a round comes only with its ROUND_ADDED line.
            writePayouts(c, List.of(new Payout(1, 1, 1, 100, 1)));
            c.commit();
            assertThat(sqlState(c, addRound(9, 5_000_000, start, "1, 2", 1_000))).as("no line").isEqualTo("HB207");
            c.rollback();
            writeLedger(c, "change-late-add", 9, "ROUND_ADDED", 5_000_000, 5_000_000, start + MINUTE_MS);
            assertThat(sqlState(c, addRound(9, 5_000_000, start, "1, 2", 1_000)))
                    .as("its line takes effect after its start").isEqualTo("HB207");
            c.rollback();
            assertThat(sqlState(() -> writeLedger(c, "change-raise", 1, "ROUND_ADDED", 1, 1, start)))
                    .as("ROUND_ADDED for a round that exists").isEqualTo("HB206");
            c.rollback();
            // Rounds 1 and 2 hold 20,000,000 of the campaign's 100,000,000 fen.
            assertThat(sqlState(() -> writeLedger(c, "change-big", 9, "ROUND_ADDED", 80_000_001, 80_000_001, start)))
                    .as("beyond the campaign").isEqualTo("HB202");
            c.rollback();

            writeLedger(c, "change-add", 9, "ROUND_ADDED", 5_000_000, 5_000_000, start - MINUTE_MS);
            assertThat(sqlState(c, addRound(9, 5_000_000, start, "1, 99", 1_000))).as("a tier no round has")
                    .isEqualTo("HB208");
            c.rollback();
            writeLedger(c, "change-add", 9, "ROUND_ADDED", 5_000_000, 5_000_000, start - MINUTE_MS);
            assertThat(sqlState(c, addRound(9, 5_000_000, start, "1, 2", 1_000_000_000)))
                    .as("fen_per_gala looser than any round's").isEqualTo("HB208");
            c.rollback();
            writeLedger(c, "change-add", 9, "ROUND_ADDED", 5_000_000, 5_000_000, start - MINUTE_MS);
            assertThat(strings(c, addRound(9, 5_000_000, start, "1, 2", 20_000))).containsExactly("ADDED");
            // Its payouts in the same transaction, held to its budget and caps like any round's.
            assertThat(writePayouts(c, List.of(new Payout(9, 2, 2, 1_000, 2))).values()).containsOnly("INSERTED");
            assertThat(prepare(c, "guards-added")).isNull();
            commitPrepared(c, "guards-added");
            c.setAutoCommit(true);
            assertThat(strings(c, addRound(9, 5_000_000, start, "1, 2", 20_000))).as("a replay").containsExactly("EXISTS");
            c.setAutoCommit(false);
            writePayouts(c, List.of(new Payout(9, 1, 3, 1_000, 3), new Payout(9, 1, 3, 1_000, 4),
                    new Payout(9, 1, 3, 1_000, 5)));
            assertThat(prepare(c, "guards-added-caps")).as("3 wins, wins_per_round 2").isEqualTo("HB103");
        }
        assertThat(Sql.strings(db, "SELECT round_id || ' ' || budget_fen || ' ' || config_version FROM round "
                + "WHERE round_id = 9")).containsExactly("9 5000000 1");
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM prize_tier WHERE round_id = 9")).isEqualTo(2);
        assertThat(Sql.strings(db, "SELECT payout_id FROM payout WHERE round_id = 9")).containsExactly(payoutId(9, 2));
        assertThat(Sql.strings(db, "SELECT entry_id || ' ' || added || ' ' || line_applied FROM round_schedule "
                + "WHERE round_id = 9")).containsExactly("change-add true true");
    }

    /** settlement_apply_round_config (V14) of round 1 with its budget, unpaused, version 1, and this window. */
    private static String applyWindow(int round, long startsAtMs, long endsAtMs) {
        return "SELECT settlement_apply_round_config(" + round + ", 10000000, false, 1, '"
                + Instant.ofEpochMilli(startsAtMs) + "', '" + Instant.ofEpochMilli(endsAtMs) + "')";
    }

    /**
     * settlement_add_round of a ten-minute round with these of round 1's tiers (1 and 2 pay 1 to 1,000 fen, cap
     * 1,000,000; 99 is no round's), wins_per_round 2 and this fen_per_gala.
     */
    private static String addRound(int round, long budgetFen, long startsAtMs, String tiers, long fenPerGala) {
        List<String> ids = List.of(tiers.split(", "));
        String names = String.join(",", ids.stream().map(id -> "\"tier " + id + "\"").toList());
        return "SELECT settlement_add_round(" + round + ", 'round " + round + "', '"
                + Instant.ofEpochMilli(startsAtMs) + "', '" + Instant.ofEpochMilli(startsAtMs + 10 * MINUTE_MS)
                + "', " + budgetFen + ", 100000, 2, " + fenPerGala + ", false, 1, '{" + String.join(",", ids)
                + "}', '{" + names + "}', '{" + copies(ids, 1) + "}', '{" + copies(ids, 1_000) + "}', '{"
                + copies(ids, 1_000_000) + "}', '{" + copies(ids, 1) + "}')";
    }

    private static String copies(List<String> ids, long value) {
        return String.join(",", Collections.nCopies(ids.size(), String.valueOf(value)));
    }

    @Test
    void shouldRefuseACommitMarkerThatDoesNotDescribeItsTransaction() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("guards_marker");
        try (Connection c = EmbeddedSettlementDb.asJob(db).connect("test")) {
            c.setAutoCommit(false);
            // Claims 5 payouts its transaction did not write (a marker for a transaction that was rolled back).
            strings(c, "SELECT settlement_write_commit_marker('hb:payouts:0:7:abc:0', 'payouts', 0, 7, 'abc', 5, 0, "
                    + "500)::text");
            assertThat(sqlState(() -> c.commit())).isEqualTo("HB105");
            c.rollback();
            assertThat(sqlState(c, "SELECT settlement_write_commit_marker('hb:other:0:7:abc:0', 'payouts', 0, 7, 'abc', "
                    + "0, 0, 0)")).as("gid of another sink").isEqualTo("HB106");
            c.rollback();
            writePayouts(c, List.of(new Payout(1, 1, 1, 10, 1)));
            strings(c, "SELECT settlement_write_commit_marker('hb:payouts:0:7:abc:1', 'payouts', 0, 7, 'abc', 1, 0, "
                    + "10)::text");
            assertThat(prepare(c, "hb:payouts:0:7:abc:1")).isNull();
            commitPrepared(c, "hb:payouts:0:7:abc:1");
            c.setAutoCommit(true);
            assertThat(sqlState(c, "SELECT settlement_record_lost_transaction('hb:payouts:0:7:abc:1', 'payouts', 1, 10)"))
                    .as("a committed transaction is not lost").isEqualTo("HB107");
        }
        assertThat(Sql.strings(db, "SELECT gid FROM settlement_commit")).containsExactly("hb:payouts:0:7:abc:1");
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM settlement_lost_transaction")).isZero();
    }

    /** A migrated database with round 1 (tier 1 paying 1 to 1,000 fen), campaign = its budget. */
    private static SettlementDatabase gala(String name, long budgetFen, long tierCap, int winsPerRound, long fenPerGala)
            throws SQLException {
        SettlementDatabase db = EmbeddedSettlementDb.migratedDatabase(name);
        Round round = Records.round(1, budgetFen, 0, Records.tier(1, 1, 1_000, tierCap));
        Round r = new Round(round.roundId(), round.name(), round.startsAtMs(), round.endsAtMs(), round.budgetFen(),
                round.winPerMillion(), winsPerRound, fenPerGala, round.paused(), round.version(), round.tiers());
        RoundCatalog.register(db, List.of(r));
        return db;
    }

    private record Payout(int round, int tier, long user, long amountFen, long n) {}

    private static String payoutId(int round, long n) {
        return "r" + round + "-" + Records.eventId(n);
    }

    /** One call of the writer's function, as the job makes it; returns each row's outcome in order. */
    private static Map<String, String> writePayouts(Connection c, List<Payout> rows) throws SQLException {
        int n = rows.size();
        Object[][] cols = new Object[10][n];
        for (int i = 0; i < n; i++) {
            Payout p = rows.get(i);
            cols[0][i] = payoutId(p.round(), p.n());
            cols[1][i] = p.round();
            cols[2][i] = p.tier();
            cols[3][i] = p.user();
            cols[4][i] = p.amountFen();
            cols[5][i] = Records.eventId(p.n());
            cols[6][i] = Records.TOPIC;
            cols[7][i] = 0;
            cols[8][i] = p.n();
            cols[9][i] = Records.ROUND_START_MS + p.n();
        }
        String[] types = {"text", "int4", "int4", "int8", "int8", "text", "text", "int4", "int8", "int8"};
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(WRITE_PAYOUTS)) {
            for (int k = 0; k < cols.length; k++) {
                ps.setArray(k + 1, c.createArrayOf(types[k], cols[k]));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return out;
    }

    private static String writeLedger(Connection c, String entryId, int round, long budgetAfter) throws SQLException {
        return writeLedger(c, entryId, round, "BUDGET_RAISED", budgetAfter, budgetAfter, Records.ROUND_START_MS);
    }

    private static String writeLedger(Connection c, String entryId, int round, String kind, long amountFen,
            long budgetAfter, long effectiveAtMs) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(WRITE_LEDGER)) {
            Object[][] cols = {{entryId}, {round}, {kind}, {amountFen}, {budgetAfter}, {"test"}, {effectiveAtMs},
                    {"test"}};
            String[] types = {"text", "int4", "text", "int8", "int8", "text", "int8", "text"};
            for (int k = 0; k < cols.length; k++) {
                ps.setArray(k + 1, c.createArrayOf(types[k], cols[k]));
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(2);
            }
        }
    }

    /** PREPARE TRANSACTION; null when prepared, else the SQLSTATE it failed with (the transaction is gone). */
    private static String prepare(Connection c, String gid) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("PREPARE TRANSACTION '" + gid + "'");
            return null;
        } catch (SQLException e) {
            c.rollback();
            return e.getSQLState();
        }
    }

    private static void commitPrepared(Connection c, String gid) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
            st.execute("COMMIT PREPARED '" + gid + "'");
        }
        c.setAutoCommit(auto);
    }

    private static List<String> strings(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private interface SqlAction {
        void run() throws SQLException;
    }

    private static String sqlState(SqlAction action) {
        try {
            action.run();
        } catch (SQLException e) {
            return e.getSQLState();
        }
        return fail("expected a refusal");
    }

    private static String sqlState(Connection c, String sql) {
        return sqlState(() -> {
            try (Statement st = c.createStatement()) {
                st.execute(sql);
            }
        });
    }
}
