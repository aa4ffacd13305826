package io.hongbao.settlement.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.reconcile.ReconciliationResult.Violation;
import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import io.hongbao.settlement.testing.Records;
import io.hongbao.settlement.testing.Sql;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Reconciliation on hand-made settlement rows: passes on a clean gala, finds each kind of violation. */
class ReconciliationITCase {

    /** Two rounds: budget 100,000 fen (1,000.00 yuan) and 50,000 fen; 2 wins per user and round; 20,000 fen a gala. */
    private static SettlementDatabase cleanGala(String name) {
        SettlementDatabase db = EmbeddedSettlementDb.migratedDatabase(name);
        // Tables loaded by hand, as if by other means than the job: without V12's money guards (campaign, budget
        // with its ledger line, the checks at commit), which would refuse the violations reconciliation must find.
        Sql.execute(db, "ALTER TABLE round DISABLE TRIGGER USER", "ALTER TABLE prize_tier DISABLE TRIGGER USER",
                "ALTER TABLE payout_tally DISABLE TRIGGER USER");
        round(db, 1, 100_000, 2, 20_000);
        round(db, 2, 50_000, 2, 20_000);
        tier(db, 1, 1, 100, 888, 100);
        tier(db, 1, 2, 8_888, 8_888, 1);
        tier(db, 2, 1, 100, 888, 100);
        payout(db, 1, 1, 7, 888, 1);
        payout(db, 1, 1, 7, 100, 2);
        payout(db, 1, 2, 8, 8_888, 3);
        payout(db, 2, 1, 7, 500, 4);
        return db;
    }

    @Test
    void shouldPassOnACleanGala() throws Exception {
        SettlementDatabase db = cleanGala("clean");

        ReconciliationResult result = run(db);

        assertThat(result.violations()).isEmpty();
        assertThat(result.passed()).isTrue();
        assertThat(result.rounds()).hasSize(2);
        ReconciliationResult.RoundFigures round1 = result.rounds().get(0);
        assertThat(round1.payouts()).isEqualTo(3);
        assertThat(round1.paidFen()).isEqualTo(9_876);
        assertThat(round1.paidYuan()).isEqualTo("98.76");
        assertThat(round1.budgetYuan()).isEqualTo("1,000.00");
        assertThat(round1.remainingFen()).isEqualTo(90_124);
        assertThat(result.tiers()).extracting(ReconciliationResult.TierFigures::payouts).containsExactly(2L, 1L, 1L);
    }

    @Test
    void shouldFindARoundOverBudgetByOneFen() throws Exception {
        SettlementDatabase db = cleanGala("over_budget");
        Sql.execute(db, "UPDATE round SET budget_fen = 9875 WHERE round_id = 1");

        ReconciliationResult result = run(db);

        assertThat(result.passed()).isFalse();
        assertThat(result.violations(Check.OVER_BUDGET)).singleElement().satisfies(v -> {
            assertThat(v.roundId()).isEqualTo(1);
            assertThat(v.detail()).contains("paid 9876 fen (98.76 yuan)").contains("1 fen over");
        });
        assertThat(result.totalViolations()).isOne();
    }

    @Test
    void shouldFindATierOverItsCap() throws Exception {
        SettlementDatabase db = cleanGala("tier_cap");
        payout(db, 1, 2, 9, 8_888, 5);

        ReconciliationResult result = run(db);

        assertThat(result.violations(Check.TIER_CAP_EXCEEDED)).singleElement()
                .satisfies(v -> assertThat(v.subject()).isEqualTo("round 1 tier 2"))
                .satisfies(v -> assertThat(v.detail()).isEqualTo("2 packets paid, cap 1"));
        assertThat(result.passed()).isFalse();
    }

    @Test
    void shouldFindAnAmountAboveItsTiersMax() throws Exception {
        SettlementDatabase db = cleanGala("tier_max");
        relaxPayoutConstraints(db);
        payout(db, 1, 1, 10, 889, 5);

        assertThat(run(db).violations(Check.AMOUNT_ABOVE_TIER_MAX)).singleElement()
                .satisfies(v -> assertThat(v.subject()).isEqualTo("r1-" + Records.eventId(5)));
    }

    @Test
    void shouldFindAUserOverTheWinsPerRound() throws Exception {
        SettlementDatabase db = cleanGala("user_wins");
        payout(db, 1, 1, 7, 100, 5); // user 7's third win in round 1

        ReconciliationResult result = run(db);

        assertThat(result.violations(Check.USER_WINS_PER_ROUND_EXCEEDED)).singleElement().satisfies(v -> {
            assertThat(v.roundId()).isEqualTo(1);
            assertThat(v.subject()).isEqualTo("user 7");
            assertThat(v.detail()).isEqualTo("3 wins, wins_per_round 2");
        });
    }

    @Test
    void shouldFindAUserOverTheFenPerGalaAcrossRounds() throws Exception {
        SettlementDatabase db = cleanGala("user_fen");
        Sql.execute(db, "UPDATE prize_tier SET max_fen = 20000");
        payout(db, 1, 1, 11, 15_000, 5);
        payout(db, 2, 1, 11, 6_000, 6); // 21,000 fen over the gala, cap 20,000

        ReconciliationResult result = run(db);

        assertThat(result.violations(Check.USER_FEN_PER_GALA_EXCEEDED)).singleElement().satisfies(v -> {
            assertThat(v.roundId()).isEqualTo(2);
            assertThat(v.subject()).isEqualTo("user 11");
            assertThat(v.detail()).startsWith("21000 fen won over the gala");
        });

        // Round 2 applied a higher cap: the same wins are then within the rules.
        Sql.execute(db, "UPDATE round SET fen_per_gala = 30000 WHERE round_id = 2");
        assertThat(run(db).violations(Check.USER_FEN_PER_GALA_EXCEEDED)).isEmpty();
    }

    @Test
    void shouldFindMissingLineage() throws Exception {
        SettlementDatabase db = cleanGala("lineage");
        relaxPayoutConstraints(db);
        Sql.execute(db,
                "UPDATE payout SET kafka_topic = NULL WHERE payout_id = 'r1-" + Records.eventId(1) + "'",
                "UPDATE payout SET kafka_partition = -1 WHERE payout_id = 'r1-" + Records.eventId(2) + "'",
                "UPDATE payout SET kafka_offset = NULL WHERE payout_id = 'r1-" + Records.eventId(3) + "'");

        ReconciliationResult result = run(db);

        assertThat(result.violations(Check.MISSING_LINEAGE)).extracting(Violation::subject).containsExactly(
                "r1-" + Records.eventId(1), "r1-" + Records.eventId(2), "r1-" + Records.eventId(3));
        assertThat(result.violations(Check.MISSING_LINEAGE).get(0).detail()).contains("Kafka record NULL/");
        assertThat(result.passed()).isFalse();
    }

    @Test
    void shouldFindDuplicatePayoutsAndSharedKafkaRecords() throws Exception {
        SettlementDatabase db = cleanGala("duplicates");
        relaxPayoutConstraints(db);
        payout(db, 1, 1, 12, 100, 1); // the same payout id again
        Sql.execute(db, "INSERT INTO payout (payout_id, round_id, tier_id, user_id, amount_fen, event_id, kafka_topic, "
                + "kafka_partition, kafka_offset, shake_event_time) VALUES ('r1-x', 1, 1, 13, 100, '" + Records.eventId(2)
                + "', 'other', 0, 0, now())");

        ReconciliationResult result = run(db);

        assertThat(result.violations(Check.DUPLICATE_PAYOUT_ID)).extracting(Violation::subject)
                .containsExactly("r1-" + Records.eventId(1));
        assertThat(result.violations(Check.DUPLICATE_ROUND_EVENT)).extracting(Violation::subject)
                .containsExactly("event " + Records.eventId(1), "event " + Records.eventId(2));
        assertThat(result.violations(Check.PAYOUT_ID_NOT_DERIVED)).extracting(Violation::subject).containsExactly("r1-x");
        assertThat(result.violations(Check.SHARED_KAFKA_RECORD)).extracting(Violation::subject)
                .containsExactly(Records.TOPIC + "/1/1");
    }

    @Test
    void shouldFindPayoutsOutsideTheConfiguredRoundsAndTiers() throws Exception {
        SettlementDatabase db = cleanGala("unconfigured");
        relaxPayoutConstraints(db);
        payout(db, 9, 1, 14, 100, 5);
        payout(db, 1, 7, 15, 100, 6);

        assertThat(run(db).violations(Check.UNCONFIGURED_ROUND_OR_TIER)).extracting(Violation::detail)
                .containsExactly("round 1 has no tier 7", "round 9 is not configured");
    }

    @Test
    void shouldFailOnALostTransaction() throws Exception {
        SettlementDatabase db = cleanGala("lost");
        Sql.execute(db, "INSERT INTO settlement_lost_transaction (gid, sink_name, payouts, payout_fen) "
                + "VALUES ('hb:payouts:0:5:abc:1', 'payouts', 3, 1200)");

        assertThat(run(db).violations(Check.LOST_TRANSACTION)).singleElement()
                .satisfies(v -> assertThat(v.detail()).startsWith("3 payouts (1200 fen) of sink payouts lost"));
    }

    @Test
    void commandShouldExitOneOnAQuarantinedRow(@TempDir Path dir) throws Exception {
        SettlementDatabase db = cleanGala("quarantined");
        Sql.execute(db, "INSERT INTO settlement_quarantine (kind, row_key, round_id, reason, detail, row_data, "
                + "existing_key, lineage, sink_name, subtask) VALUES ('payout', 'r1-" + "0".repeat(31) + "5', 1, "
                + "'CONFLICTING_CONTENT', 'user_id (8 vs 7)', '{}', 'r1-" + "0".repeat(31) + "5', 'hongbao.shakes/1/5', "
                + "'payouts', 0)");
        Path report = dir.resolve("reconcile.json");
        StringWriter out = new StringWriter();

        int exit = command(Map.of("HONGBAO_PG_PASSWORD", "x"), out, "--jdbc-url", db.jdbcUrl(), "--user", db.user(),
                "--report", report.toString());

        assertThat(exit).isOne();
        assertThat(out.toString()).contains("QUARANTINED").contains("RECONCILIATION FAILED: 1 violation(s)")
                .contains("CONFLICTING_CONTENT: user_id (8 vs 7)");
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.get("passed").asBoolean()).isFalse();
        assertThat(json.get("checks").get("QUARANTINED").get("violations").asLong()).isOne();
        assertThat(json.get("checks").get("QUARANTINED").get("listed").get(0).get("subject").asText())
                .isEqualTo("payout r1-" + "0".repeat(31) + "5");
    }

    @Test
    void shouldCountEveryViolationButListOnlySome() throws Exception {
        SettlementDatabase db = cleanGala("listing");
        relaxPayoutConstraints(db);
        for (int n = 10; n < 20; n++) {
            payout(db, 9, 1, 100 + n, 100, n);
        }
        try (Connection c = db.connect("test")) {
            ReconciliationResult result = new Reconciliation(3).run(c);
            assertThat(result.violationCount(Check.UNCONFIGURED_ROUND_OR_TIER)).isEqualTo(10);
            assertThat(result.violations(Check.UNCONFIGURED_ROUND_OR_TIER)).hasSize(3);
        }
    }

    @Test
    void commandShouldExitZeroAndReportACleanGala(@TempDir Path dir) throws Exception {
        SettlementDatabase db = cleanGala("command_clean");
        Path report = dir.resolve("out/reconcile.json");
        StringWriter out = new StringWriter();

        int exit = command(Map.of("HONGBAO_PG_PASSWORD", "not-needed-with-trust"), out, "--jdbc-url", db.jdbcUrl(),
                "--user", db.user(), "--report", report.toString());

        assertThat(exit).isZero();
        assertThat(out.toString()).contains("RECONCILIATION PASSED").contains("1,000.00").contains("98.76");
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.get("passed").asBoolean()).isTrue();
        assertThat(json.get("rounds").get(0).get("paidFen").asLong()).isEqualTo(9_876);
        assertThat(json.get("rounds").get(0).get("paidYuan").asText()).isEqualTo("98.76");
        assertThat(json.get("checks").get("OVER_BUDGET").get("violations").asLong()).isZero();
    }

    @Test
    void commandShouldExitOneOnAViolation(@TempDir Path dir) throws Exception {
        SettlementDatabase db = cleanGala("command_violation");
        Sql.execute(db, "UPDATE round SET budget_fen = 100 WHERE round_id = 2");
        Path passwordFile = Files.writeString(dir.resolve("pw"), "whatever\n");
        Path report = dir.resolve("reconcile.json");
        StringWriter out = new StringWriter();

        int exit = command(Map.of(), out, "--jdbc-url", db.jdbcUrl(), "--user", db.user(), "--password-file",
                passwordFile.toString(), "--report", report.toString());

        System.out.print(out);
        assertThat(exit).isOne();
        assertThat(out.toString()).contains("OVER BUDGET").contains("RECONCILIATION FAILED: 1 violation(s)");
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.get("passed").asBoolean()).isFalse();
        assertThat(json.get("checks").get("OVER_BUDGET").get("listed").get(0).get("roundId").asInt()).isEqualTo(2);
    }

    @Test
    void commandShouldCheckCountsAgainstTheManifest(@TempDir Path dir) throws Exception {
        SettlementDatabase db = cleanGala("command_manifest");
        Sql.execute(db, "INSERT INTO interaction_count (round_id, minute_start, channel, region, shakes) VALUES "
                        + "(1, '2027-02-06T12:00:00Z', 'ios', 'CN-GD', 40), (1, '2027-02-06T12:01:00Z', 'tv', 'CN-SH', 2), "
                        + "(2, '2027-02-06T12:05:00Z', 'h5', 'CN-BJ', 7)",
                "INSERT INTO rejected_count (reason, records) VALUES ('OVERSIZED', 3), ('UNKNOWN_ROUND', 5)");
        Path manifest = dir.resolve("manifest.json");
        Files.writeString(manifest, "{\"seed\": 1, \"expected\": {\"distinct_valid_events\": 49, "
                + "\"rounds\": {\"1\": {\"distinct_events\": 42}, \"2\": {\"distinct_events\": 7}}, "
                + "\"rejected\": {\"OVERSIZED\": 3, \"UNKNOWN_ROUND\": 5, \"UNDECODABLE\": 0}}}");
        StringWriter out = new StringWriter();

        int clean = command(Map.of(), out, "--jdbc-url", db.jdbcUrl(), "--user", db.user(), "--manifest",
                manifest.toString());

        assertThat(clean).as(out.toString()).isZero();
        assertThat(out.toString()).contains("INTERACTION_COUNT_MISMATCH").contains("REJECT_COUNT_MISMATCH");

        // One shake counted twice and one reject missing: both show.
        Sql.execute(db, "UPDATE interaction_count SET shakes = 8 WHERE round_id = 2",
                "UPDATE rejected_count SET records = 4 WHERE reason = 'UNKNOWN_ROUND'");
        ReconciliationResult result;
        try (Connection c = db.connect("test")) {
            result = new Reconciliation().expecting(ExpectedCounts.fromManifest(manifest)).run(c);
        }
        assertThat(result.violations(Check.INTERACTION_COUNT_MISMATCH)).singleElement()
                .satisfies(v -> assertThat(v.detail()).isEqualTo("8 interactions counted, manifest 7"));
        assertThat(result.violations(Check.REJECT_COUNT_MISMATCH)).singleElement()
                .satisfies(v -> assertThat(v.subject()).isEqualTo("UNKNOWN_ROUND"));
        assertThat(result.totalViolations()).isEqualTo(2);
    }

    @Test
    void shouldNotListManifestChecksWithoutAManifest() throws Exception {
        ReconciliationResult result = run(cleanGala("no_manifest"));

        assertThat(result.violationCounts()).doesNotContainKeys(Check.INTERACTION_COUNT_MISMATCH,
                Check.REJECT_COUNT_MISMATCH);
    }

    @Test
    void commandShouldExitOneWhenTheDatabaseCannotBeRead() {
        StringWriter out = new StringWriter();
        int exit = command(Map.of(), out, "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/none", "--user", "x");
        assertThat(exit).isOne();
    }

    private static int command(Map<String, String> env, StringWriter out, String... args) {
        CommandLine cli = new CommandLine(new ReconcileCommand(env));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));
        return cli.execute(args);
    }

    private static ReconciliationResult run(SettlementDatabase db) throws Exception {
        try (Connection c = db.connect("test")) {
            return new Reconciliation().run(c);
        }
    }

    private static void round(SettlementDatabase db, int round, long budgetFen, int winsPerRound, long fenPerGala) {
        Sql.execute(db, String.format("INSERT INTO round (round_id, name, starts_at, ends_at, budget_fen, "
                + "win_per_million, wins_per_round, fen_per_gala) VALUES (%d, 'round %d', "
                + "TIMESTAMPTZ '2026-02-16 20:00:00+08' + interval '1 hour' * %d, "
                + "TIMESTAMPTZ '2026-02-16 20:10:00+08' + interval '1 hour' * %d, %d, 100000, %d, %d)",
                round, round, round, round, budgetFen, winsPerRound, fenPerGala));
    }

    private static void tier(SettlementDatabase db, int round, int tier, long minFen, long maxFen, long cap) {
        Sql.execute(db, String.format("INSERT INTO prize_tier VALUES (%d, %d, 'tier %d', %d, %d, %d, 1)", round, tier,
                tier, minFen, maxFen, cap));
    }

    /** Shake n's payout: event id and Kafka offset n, partition n % 4. */
    private static void payout(SettlementDatabase db, int round, int tier, long user, long amountFen, long n) {
        Sql.execute(db, String.format("INSERT INTO payout (payout_id, round_id, tier_id, user_id, amount_fen, event_id, "
                + "kafka_topic, kafka_partition, kafka_offset, shake_event_time) VALUES ('r%d-%s', %d, %d, %d, %d, '%s', '%s', "
                + "%d, %d, now())", round, Records.eventId(n), round, tier, user, amountFen, Records.eventId(n),
                Records.TOPIC, n % 4, n));
    }

    /**
     * As if the table had been loaded by hand, without the schema's protection: NOT NULLs, CHECKs, keys,
     * foreign keys and the triggers (tier range, append-only) are gone, so reconciliation must find it all.
     */
    private static void relaxPayoutConstraints(SettlementDatabase db) {
        Sql.execute(db, "ALTER TABLE payout DISABLE TRIGGER USER", """
                ALTER TABLE payout ALTER COLUMN event_id DROP NOT NULL, ALTER COLUMN kafka_topic DROP NOT NULL,
                    ALTER COLUMN kafka_partition DROP NOT NULL, ALTER COLUMN kafka_offset DROP NOT NULL""", """
                DO $$ DECLARE c record; BEGIN
                  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'payout'::regclass AND contype IN ('c','p','u','f')
                  LOOP EXECUTE 'ALTER TABLE payout DROP CONSTRAINT ' || quote_ident(c.conname); END LOOP;
                END $$""");
    }
}
