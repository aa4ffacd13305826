package io.hongbao.settlement.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Round;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.sink.SettlementCommittable;
import io.hongbao.settlement.sink.SettlementCommitter;
import io.hongbao.settlement.sink.SettlementSink;
import io.hongbao.settlement.sink.SettlementWriter;
import io.hongbao.settlement.testing.RecordingCommitRequest;
import io.hongbao.settlement.reconcile.ReconciliationResult.Violation;
import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import io.hongbao.settlement.testing.Records;
import io.hongbao.settlement.testing.Sql;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.connector.sink2.Committer.CommitRequest;
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
        assertThat(result.violations("OVER_BUDGET")).singleElement().satisfies(v -> {
            assertThat(v.roundId()).isEqualTo(1);
            assertThat(v.detail()).isEqualTo("paid 9876 fen over a budget of 9875 fen: 1 fen over");
            assertThat(v.expected()).isEqualTo("9875");
            assertThat(v.actual()).isEqualTo("9876");
        });
        assertThat(result.totalViolations()).isOne();
    }

    @Test
    void shouldFindATierOverItsCap() throws Exception {
        SettlementDatabase db = cleanGala("tier_cap");
        payout(db, 1, 2, 9, 8_888, 5);

        ReconciliationResult result = run(db);

        assertThat(result.violations("TIER_CAP_EXCEEDED")).singleElement()
                .satisfies(v -> assertThat(v.subject()).isEqualTo("round 1 tier 2"))
                .satisfies(v -> assertThat(v.detail()).isEqualTo("2 packets paid, cap 1"));
        assertThat(result.passed()).isFalse();
    }

    @Test
    void shouldFindAnAmountAboveItsTiersMax() throws Exception {
        SettlementDatabase db = cleanGala("tier_max");
        relaxPayoutConstraints(db);
        payout(db, 1, 1, 10, 889, 5);

        assertThat(run(db).violations("AMOUNT_ABOVE_TIER_MAX")).singleElement()
                .satisfies(v -> assertThat(v.subject()).isEqualTo("r1-" + Records.eventId(5)));
    }

    @Test
    void shouldFindAUserOverTheWinsPerRound() throws Exception {
        SettlementDatabase db = cleanGala("user_wins");
        payout(db, 1, 1, 7, 100, 5); // user 7's third win in round 1

        ReconciliationResult result = run(db);

        assertThat(result.violations("USER_WINS_PER_ROUND_EXCEEDED")).singleElement().satisfies(v -> {
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

        assertThat(result.violations("USER_FEN_PER_GALA_EXCEEDED")).singleElement().satisfies(v -> {
            assertThat(v.roundId()).isEqualTo(2);
            assertThat(v.subject()).isEqualTo("user 11");
            assertThat(v.detail()).startsWith("21000 fen won over the gala");
        });

        // Round 2 applied a higher cap: the same wins are then within the rules.
        Sql.execute(db, "UPDATE round SET fen_per_gala = 30000 WHERE round_id = 2");
        assertThat(run(db).violations("USER_FEN_PER_GALA_EXCEEDED")).isEmpty();
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

        assertThat(result.violations("MISSING_LINEAGE")).extracting(Violation::subject).containsExactly(
                "r1-" + Records.eventId(1), "r1-" + Records.eventId(2), "r1-" + Records.eventId(3));
        assertThat(result.violations("MISSING_LINEAGE").get(0).detail()).contains("Kafka record NULL/");
        assertThat(result.passed()).isFalse();
    }

    @Test
    void shouldFindDuplicatePayoutsAndSharedKafkaRecords() throws Exception {
        SettlementDatabase db = cleanGala("duplicates");
        relaxPayoutConstraints(db);
        payout(db, 1, 1, 12, 100, 1); // the same payout id again
        payout(db, "r1-x", 1, 1, 13, 100, "'" + Records.eventId(2) + "'", "'other'", 0, 0);

        ReconciliationResult result = run(db);

        assertThat(result.violations("DUPLICATE_PAYOUT_ID")).extracting(Violation::subject)
                .containsExactly("r1-" + Records.eventId(1));
        assertThat(result.violations("DUPLICATE_ROUND_EVENT")).extracting(Violation::subject)
                .containsExactly("event " + Records.eventId(1), "event " + Records.eventId(2));
        assertThat(result.violations("PAYOUT_ID_NOT_DERIVED")).extracting(Violation::subject).containsExactly("r1-x");
        assertThat(result.violations("SHARED_KAFKA_RECORD")).extracting(Violation::subject)
                .containsExactly(Records.TOPIC + "/1/1");
    }

    @Test
    void shouldFindPayoutsOutsideTheConfiguredRoundsAndTiers() throws Exception {
        SettlementDatabase db = cleanGala("unconfigured");
        relaxPayoutConstraints(db);
        payout(db, 9, 1, 14, 100, 5);
        payout(db, 1, 7, 15, 100, 6);

        assertThat(run(db).violations("UNCONFIGURED_ROUND_OR_TIER")).extracting(Violation::detail)
                .containsExactly("round 1 has no tier 7", "round 9 is not configured");
    }

    @Test
    void shouldFailOnALostTransaction() throws Exception {
        SettlementDatabase db = cleanGala("lost");
        Sql.execute(db, "INSERT INTO settlement_lost_transaction (gid, sink_name, payouts, payout_fen) "
                + "VALUES ('hb:payouts:0:5:abc:1', 'payouts', 3, 1200)");

        assertThat(run(db).violations("LOST_TRANSACTION")).singleElement()
                .satisfies(v -> assertThat(v.detail()).startsWith("3 payouts (1200 fen) of sink payouts lost"));
    }

    @Test
    void commandShouldExitOneOnAQuarantinedRow(@TempDir Path dir) throws Exception {
        SettlementDatabase db = cleanGala("quarantined");
        quarantine(db, "r1-" + "0".repeat(31) + "5");
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
            assertThat(result.violationCount("UNCONFIGURED_ROUND_OR_TIER")).isEqualTo(10);
            assertThat(result.violations("UNCONFIGURED_ROUND_OR_TIER")).hasSize(3);
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
        assertThat(result.violations(Reconciliation.INTERACTION_COUNT_MISMATCH)).singleElement()
                .satisfies(v -> assertThat(v.detail()).isEqualTo("8 interactions counted, manifest 7"));
        assertThat(result.violations(Reconciliation.REJECT_COUNT_MISMATCH)).singleElement()
                .satisfies(v -> assertThat(v.subject()).isEqualTo("UNKNOWN_ROUND"));
        assertThat(result.totalViolations()).isEqualTo(2);
    }

    @Test
    void shouldNotListManifestChecksWithoutAManifest() throws Exception {
        ReconciliationResult result = run(cleanGala("no_manifest"));

        assertThat(result.violationCounts()).doesNotContainKeys(Reconciliation.INTERACTION_COUNT_MISMATCH,
                Reconciliation.REJECT_COUNT_MISMATCH);
    }

    @Test
    void commandShouldExitOneWhenTheDatabaseCannotBeRead() {
        StringWriter out = new StringWriter();
        int exit = command(Map.of(), out, "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/none", "--user", "x");
        assertThat(exit).isOne();
    }

    @Test
    void shouldPassEveryCheckOfTheViewsAndTheCommandOnACleanGala(@TempDir Path dir) throws Exception {
        SettlementDatabase db = cleanGala("clean_views");
        Path report = dir.resolve("reconcile.json");

        int exit = command(Map.of(), new StringWriter(), "--jdbc-url", db.jdbcUrl(), "--user", db.user(), "--report",
                report.toString());

        assertThat(Sql.count(db, "SELECT COUNT(*) FROM reconciliation_violation")).isZero();
        List<String> checks = Sql.strings(db, "SELECT check_name FROM reconciliation_check_rule ORDER BY check_order");
        assertThat(checks).hasSize(13);
        assertThat(Sql.strings(db, "SELECT check_name || ' ' || violations || ' ' || status FROM reconciliation_summary "
                + "ORDER BY check_order")).containsExactlyElementsOf(checks.stream().map(c -> c + " 0 PASS").toList());
        assertThat(exit).isZero();
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.get("checks").properties()).extracting(Map.Entry::getKey).containsExactlyElementsOf(checks);
        assertThat(json.get("checks").properties()).allSatisfy(e -> {
            assertThat(e.getValue().get("violations").asLong()).as(e.getKey()).isZero();
            assertThat(e.getValue().get("status").asText()).as(e.getKey()).isEqualTo("PASS");
        });
    }

    /**
     * One violation of every check, each written as the schema owner with the schema's own guards switched off
     * (as a table loaded by hand would be): the violation view names each, the summary fails each, and the
     * command's exit code and report say what the views say.
     */
    @Test
    void shouldFindEveryCheckInTheViewsAndReportWhatTheySay(@TempDir Path dir) throws Exception {
        SettlementDatabase db = cleanGala("every_check");
        relaxPayoutConstraints(db);
        relaxConstraints(db, "round");
        relaxConstraints(db, "prize_tier");
        Sql.execute(db, "UPDATE round SET budget_fen = 100 WHERE round_id = 2", // paid 500
                "UPDATE round SET fen_per_gala = 1000 WHERE round_id = 2"); // user 7: 1,088 + 500 fen by round 2
        payout(db, 1, 2, 9, 8_888, 5); // tier 2 of round 1: 2 packets, cap 1
        payout(db, 2, 1, 10, 889, 6); // max_fen 888
        payout(db, 1, 1, 7, 100, 7); // user 7's third win in round 1
        payout(db, 1, 1, 12, 100, 1); // shake 1's payout id, (round, event) and Kafka record again
        payout(db, "r1-x", 1, 1, 13, 100, "'" + Records.eventId(8) + "'", "'other'", 0, 8);
        payout(db, "r1-" + Records.eventId(9), 1, 1, 14, 100, "'" + Records.eventId(9) + "'", "NULL", 1, 9);
        payout(db, 9, 1, 15, 100, 10); // round 9 is not configured
        Sql.execute(db, "INSERT INTO settlement_lost_transaction (gid, sink_name, payouts, payout_fen) "
                + "VALUES ('hb:payouts:0:5:abc:1', 'payouts', 3, 1200)");
        quarantine(db, "r1-" + Records.eventId(11));

        Map<String, List<String>> expected = new LinkedHashMap<>();
        expected.put("OVER_BUDGET", List.of("round 2"));
        expected.put("TIER_CAP_EXCEEDED", List.of("round 1 tier 2"));
        expected.put("AMOUNT_ABOVE_TIER_MAX", List.of("r2-" + Records.eventId(6)));
        expected.put("USER_WINS_PER_ROUND_EXCEEDED", List.of("user 7"));
        expected.put("USER_FEN_PER_GALA_EXCEEDED", List.of("user 7"));
        expected.put("DUPLICATE_PAYOUT_ID", List.of("r1-" + Records.eventId(1)));
        expected.put("DUPLICATE_ROUND_EVENT", List.of("event " + Records.eventId(1)));
        expected.put("PAYOUT_ID_NOT_DERIVED", List.of("r1-x"));
        expected.put("MISSING_LINEAGE", List.of("r1-" + Records.eventId(9)));
        expected.put("SHARED_KAFKA_RECORD", List.of(Records.TOPIC + "/1/1"));
        expected.put("UNCONFIGURED_ROUND_OR_TIER", List.of("r9-" + Records.eventId(10)));
        expected.put("LOST_TRANSACTION", List.of("hb:payouts:0:5:abc:1"));
        expected.put("QUARANTINED", List.of("payout r1-" + Records.eventId(11)));
        assertThat(expected.keySet()).as("one violation built for every check of the views")
                .containsExactlyElementsOf(Sql.strings(db, "SELECT check_name FROM reconciliation_check_rule ORDER BY check_order"));

        Map<String, List<String>> inView = new LinkedHashMap<>();
        for (String row : Sql.strings(db, "SELECT v.check_name || '|' || v.subject FROM reconciliation_violation v "
                + "JOIN reconciliation_check_rule c USING (check_name) ORDER BY c.check_order, v.subject")) {
            inView.computeIfAbsent(row.substring(0, row.indexOf('|')), k -> new ArrayList<>()).add(row.substring(row.indexOf('|') + 1));
        }
        assertThat(inView).isEqualTo(expected);
        assertThat(Sql.strings(db, "SELECT DISTINCT status FROM reconciliation_summary")).containsExactly("FAIL");
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM reconciliation_summary s WHERE violations <> "
                + "(SELECT COUNT(*) FROM reconciliation_violation v WHERE v.check_name = s.check_name)")).isZero();

        Path report = dir.resolve("reconcile.json");
        StringWriter out = new StringWriter();
        int exit = command(Map.of(), out, "--jdbc-url", db.jdbcUrl(), "--user", db.user(), "--report", report.toString());

        assertThat(exit).isOne();
        assertThat(out.toString()).contains("RECONCILIATION FAILED: 13 violation(s)");
        JsonNode checks = new ObjectMapper().readTree(report.toFile()).get("checks");
        assertThat(checks.properties()).extracting(Map.Entry::getKey).containsExactlyElementsOf(expected.keySet());
        for (String check : expected.keySet()) {
            JsonNode c = checks.get(check);
            assertThat(c.get("status").asText()).as(check).isEqualTo("FAIL");
            assertThat(c.get("violations").asLong()).as(check)
                    .isEqualTo(Sql.count(db, "SELECT violations FROM reconciliation_summary WHERE check_name = '" + check + "'"));
            JsonNode listed = c.get("listed").get(0);
            assertThat(listed.get("subject").asText() + "|" + listed.get("expected").asText() + "|"
                    + listed.get("actual").asText() + "|" + listed.get("detail").asText()).as(check)
                    .isEqualTo(Sql.strings(db, "SELECT subject || '|' || expected || '|' || actual || '|' || detail "
                            + "FROM reconciliation_violation WHERE check_name = '" + check + "'").get(0));
        }
        assertThat(checks.get("USER_WINS_PER_ROUND_EXCEEDED").get("listed").get(0).get("userId").asLong()).isEqualTo(7);
        assertThat(checks.get("TIER_CAP_EXCEEDED").get("listed").get(0).get("tierId").asInt()).isEqualTo(2);
    }

    @Test
    void shouldShowGrafanaTheCountsButNotTheViolations() throws Exception {
        SettlementDatabase db = cleanGala("grafana_views");
        Sql.execute(db, "UPDATE round SET budget_fen = 100 WHERE round_id = 2");
        SettlementDatabase grafana = EmbeddedSettlementDb.asMemberOf(db, "hongbao_grafana");

        assertThat(Sql.count(grafana, "SELECT violations FROM reconciliation_summary WHERE check_name = 'OVER_BUDGET'"))
                .isOne();
        assertThat(Sql.count(grafana, "SELECT COUNT(*) FROM reconciliation_round WHERE over_budget")).isOne();
        assertThat(Sql.count(grafana, "SELECT COUNT(*) FROM reconciliation_tier")).isEqualTo(3);
        assertThat(Sql.count(grafana, "SELECT prepared_transactions FROM settlement_prepared_pending")).isZero();
        assertThatThrownBy(() -> Sql.strings(grafana, "SELECT user_id FROM reconciliation_violation"))
                .hasRootCauseInstanceOf(SQLException.class).rootCause().hasMessageContaining("permission denied");
        SettlementDatabase finance = EmbeddedSettlementDb.asMemberOf(db, "hongbao_finance");
        assertThat(Sql.strings(finance, "SELECT subject FROM reconciliation_violation")).containsExactly("round 2");
    }

    /**
     * Names come from whoever filled the tables: a tier named to clear the terminal and print a green "ALL OK"
     * must show up escaped, in the printed table and in the report, never raw.
     */
    @Test
    void commandShouldPrintControlCharactersEscaped(@TempDir Path dir) throws Exception {
        SettlementDatabase db = cleanGala("control_characters");
        Sql.execute(db, "INSERT INTO prize_tier VALUES (2, 2, E'\\x1b[2J\\x1b[H\\x1b[32mALL OK', 100, 888, 0, 1)",
                "UPDATE round SET name = E'round 2\\nRECONCILIATION PASSED\\u202e' WHERE round_id = 2");
        payout(db, 2, 2, 21, 100, 12); // over the tier's cap of 0: the real verdict is FAILED, a forged PASSED would show
        assertThat(Sql.strings(db, "SELECT name FROM prize_tier WHERE round_id = 2 AND tier_id = 2"))
                .containsExactly("\u001b[2J\u001b[H\u001b[32mALL OK");
        Path report = dir.resolve("reconcile.json");
        StringWriter out = new StringWriter();

        int exit = command(Map.of(), out, "--jdbc-url", db.jdbcUrl(), "--user", db.user(), "--report", report.toString());

        assertThat(exit).isOne();
        String printed = out.toString();
        assertThat(controlCharacters(printed)).as(printed).isEmpty();
        assertThat(printed).contains("\\u001b[2J\\u001b[H\\u001b[32mALL OK")
                .contains("round 2\\u000aRECONCILIATION PASSED\\u202e")
                .doesNotContain("\nRECONCILIATION PASSED");
        String file = Files.readString(report);
        assertThat(controlCharacters(file)).isEmpty();
        JsonNode json = new ObjectMapper().readTree(file);
        // What jq -r prints: the escape itself, visible.
        assertThat(json.get("tiers").get(3).get("name").asText()).isEqualTo("\\u001b[2J\\u001b[H\\u001b[32mALL OK");
        assertThat(controlCharacters(json.get("rounds").get(1).get("name").asText())).isEmpty();
    }

    /** The control characters of {@code s} other than the newlines that end its lines. */
    private static List<Integer> controlCharacters(String s) {
        return s.codePoints().filter(c -> c != '\n' && (Character.getType(c) == Character.CONTROL
                || Character.getType(c) == Character.FORMAT)).boxed().toList();
    }

    /**
     * The schedule as applied: round 1 extended by ten minutes with its RESCHEDULED line, round 9 added with its
     * ROUND_ADDED line (both through the sink, as the job writes them), round 2 as registered. Finance reads it from
     * round_schedule, the view the analysts' dashboard reads too.
     */
    @Test
    void shouldListEachRoundsAppliedWindowAndItsScheduleLines(@TempDir Path dir) throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("schedule");
        Round one = Records.referenceRounds().get(0);
        Round extended = new Round(1, one.name(), one.startsAtMs(), one.endsAtMs() + 600_000, one.budgetFen(),
                one.winPerMillion(), one.winsPerRound(), one.fenPerGala(), false, 1, one.tiers());
        long nineStart = one.startsAtMs() + 3 * Records.ONE_HOUR_MS;
        Round nine = new Round(9, "round 9", nineStart, nineStart + 600_000, 5_000_000, one.winPerMillion(),
                one.winsPerRound(), one.fenPerGala(), false, 1, one.tiers());
        SettlementDatabase job = EmbeddedSettlementDb.asJob(db);
        try (SettlementWriter w = new SettlementWriter(new SettlementSink.Options(job, "payouts", 100,
                Duration.ofSeconds(5)), 0, 1, 0); SettlementCommitter committer = new SettlementCommitter(job, "payouts")) {
            w.write(new LedgerEntry("change-7", 1, "RESCHEDULED", 0, one.budgetFen(), "window extended by 10 min",
                    one.endsAtMs() - 60_000, "hongbao.control/0/7"), null);
            w.write(extended, null);
            w.write(new LedgerEntry("change-8", 9, "ROUND_ADDED", 5_000_000, 5_000_000, "round 9 added",
                    nineStart - 60_000, "hongbao.control/0/8"), null);
            w.write(nine, null);
            w.write(Records.payout(9, 1), null);
            List<CommitRequest<SettlementCommittable>> requests = new ArrayList<>();
            w.prepareCommit().forEach(c -> requests.add(new RecordingCommitRequest<>(c)));
            committer.commit(requests);
        }
        SettlementDatabase finance = EmbeddedSettlementDb.asMemberOf(db, "hongbao_finance");
        Path report = dir.resolve("reconcile.json");
        StringWriter out = new StringWriter();

        int exit = command(Map.of(), out, "--jdbc-url", finance.jdbcUrl(), "--user", finance.user(), "--report",
                report.toString());

        assertThat(exit).as(out.toString()).isZero();
        assertThat(out.toString()).contains("Schedule as applied (UTC)",
                "     1  [2026-02-16T12:00:00Z, 2026-02-16T12:20:00Z)       v1  [2026-02-16T12:00:00Z, "
                        + "2026-02-16T12:10:00Z)  no     round 1",
                "RESCHEDULED change-7 effective 2026-02-16T12:09:00Z, applied v1: [2026-02-16T12:00:00Z, "
                        + "2026-02-16T12:10:00Z) -> [2026-02-16T12:00:00Z, 2026-02-16T12:20:00Z), source "
                        + "hongbao.control/0/7: window extended by 10 min",
                "     9  [2026-02-16T15:00:00Z, 2026-02-16T15:10:00Z)       v1",
                "ROUND_ADDED change-8 effective 2026-02-16T14:59:00Z, source hongbao.control/0/8: round 9 added");
        JsonNode schedule = new ObjectMapper().readTree(report.toFile()).get("schedule");
        assertThat(schedule).extracting(r -> r.get("roundId").asInt()).containsExactly(1, 2, 9);
        assertThat(schedule.get(0).get("endsAt").asText()).isEqualTo("2026-02-16T12:20:00Z");
        assertThat(schedule.get(0).get("registeredEndsAt").asText()).isEqualTo("2026-02-16T12:10:00Z");
        assertThat(schedule.get(0).get("lines").get(0).get("oldEndsAt").asText()).isEqualTo("2026-02-16T12:10:00Z");
        assertThat(schedule.get(1).get("lines")).isEmpty();
        assertThat(schedule.get(2).get("added").asBoolean()).isTrue();
        assertThat(schedule.get(2).get("lines").get(0).get("kind").asText()).isEqualTo("ROUND_ADDED");
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
        payout(db, "r" + round + "-" + Records.eventId(n), round, tier, user, amountFen, "'" + Records.eventId(n) + "'",
                "'" + Records.TOPIC + "'", n % 4, n);
    }

    /**
     * A payout row as given (event id and topic as SQL literals, so NULL can be written). By position, without a
     * column list: the column after the Kafka offset (the shake's event time) is being renamed, and the rules do
     * not read it.
     */
    private static void payout(SettlementDatabase db, String payoutId, int round, int tier, long user, long amountFen,
            String eventIdSql, String topicSql, long partition, long offset) {
        Sql.execute(db, String.format("INSERT INTO payout VALUES ('%s', %d, %d, %d, %d, %s, %s, %d, %d, now())",
                payoutId, round, tier, user, amountFen, eventIdSql, topicSql, partition, offset));
    }

    private static void quarantine(SettlementDatabase db, String payoutId) {
        Sql.execute(db, "INSERT INTO settlement_quarantine (kind, row_key, round_id, reason, detail, row_data, "
                + "existing_key, lineage, sink_name, subtask) VALUES ('payout', '" + payoutId + "', 1, "
                + "'CONFLICTING_CONTENT', 'user_id (8 vs 7)', '{}', '" + payoutId + "', 'hongbao.shakes/1/5', "
                + "'payouts', 0)");
    }

    /** A table's CHECKs and its own triggers off, as for a table loaded by hand (keys and foreign keys stay). */
    private static void relaxConstraints(SettlementDatabase db, String table) {
        Sql.execute(db, "ALTER TABLE " + table + " DISABLE TRIGGER USER", """
                DO $$ DECLARE c record; BEGIN
                  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = '%1$s'::regclass AND contype = 'c'
                  LOOP EXECUTE 'ALTER TABLE %1$s DROP CONSTRAINT ' || quote_ident(c.conname); END LOOP;
                END $$""".formatted(table));
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
