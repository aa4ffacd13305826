package io.hongbao.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.dashboards.Dashboard.Panel;
import io.hongbao.dashboards.Dashboard.Target;
import io.hongbao.dashboards.Dashboard.Variable;
import io.hongbao.dashboards.GrafanaSqlMacros.TimeRange;
import io.hongbao.dashboards.QueryResult.Column;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.JobEnvironment;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.reconcile.ExpectedCounts;
import io.hongbao.settlement.reconcile.Reconciliation;
import io.hongbao.settlement.reconcile.ReconciliationResult;
import io.hongbao.settlement.reconcile.ReconciliationResult.CheckResult;
import io.hongbao.settlement.reconcile.ReconciliationResult.RoundSchedule;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every PostgreSQL query of every dashboard, run the way Grafana would run it against the settlement tables a
 * real pipeline run filled: the tiny gala through Kafka, the payout job in a MiniCluster, the settlement and
 * interaction-count sinks into a real PostgreSQL migrated by Flyway. Each query must return the columns its
 * panel shows, and rows.
 */
class DashboardSqlITCase {
    @RegisterExtension
    @Order(1)
    static final EmbeddedKafka KAFKA = new EmbeddedKafka();

    @RegisterExtension
    @Order(2)
    static final EmbeddedSettlementDatabase POSTGRES = new EmbeddedSettlementDatabase();

    @RegisterExtension
    @Order(3)
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @TempDir
    static Path checkpoints;

    /** Checks that compare with the generator's manifest, which only the CLI is given. */
    private static final Set<String> MANIFEST_CHECKS = Set.of(Reconciliation.INTERACTION_COUNT_MISMATCH,
            Reconciliation.REJECT_COUNT_MISMATCH);
    /** Grafana's login, as settlement-sink/sql/logins.sql makes it: a member of hongbao_grafana and nothing else. */
    private static final String GRAFANA_LOGIN = "hongbao_dashboards";

    private static SettlementDatabase grafana;

    private static Manifest manifest;
    /** Covers the gala's event time and the run's wall-clock time (commit times, ledger). */
    private static TimeRange range;

    @BeforeAll
    static void settleTheTinyGala() throws Exception {
        // Fails (and with it every test) when the roles migration has not made hongbao_grafana: the panels must
        // never be checked with more rights than Grafana has.
        try (Connection c = POSTGRES.database().connect("test"); var st = c.createStatement()) {
            st.execute("CREATE ROLE " + GRAFANA_LOGIN + " LOGIN IN ROLE hongbao_grafana");
            // CONNECT is granted per login, as sql/logins.sql does (V12 revokes it from PUBLIC).
            st.execute("DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO " + GRAFANA_LOGIN
                    + "', current_database()); END $$");
        }
        grafana = SettlementDatabase.of(POSTGRES.database().jdbcUrl(), GRAFANA_LOGIN, "");
        Instant runStart = Instant.now();
        TinyGalaRun run = new TinyGalaRun(KAFKA);
        manifest = run.produce(4);
        Configuration conf = JobEnvironment.configuration(checkpoints.toUri().toString(), Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        run.buildJob(env, POSTGRES.jobLogin(), true); // as the job connects: hongbao_writer, no superuser
        env.execute("payout job for the dashboards");
        Instant from = Collections.min(List.of(TinyGalaRun.galaStart(), runStart)).minus(Duration.ofMinutes(5));
        Instant to = Collections.max(List.of(TinyGalaRun.galaEnd(), Instant.now())).plus(Duration.ofMinutes(5));
        range = new TimeRange(from, to);
    }

    @TestFactory
    Stream<DynamicTest> shouldReturnWhatEachPanelShows() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Dashboard d : DashboardFiles.dashboards()) {
            for (Panel p : d.panels()) {
                for (Target t : p.targets()) {
                    if (t.isSql()) {
                        tests.add(DynamicTest.dynamicTest(d.title() + " / " + p.title() + " / " + t.refId(),
                                () -> checkPanelQuery(d, p, t)));
                    }
                }
            }
        }
        assertThat(tests).hasSizeGreaterThan(20);
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> shouldOfferValuesForEveryTemplateVariable() {
        return DashboardFiles.dashboards().stream().flatMap(d -> d.variables().stream().filter(Variable::isSql).map(v ->
                DynamicTest.dynamicTest(d.title() + " / $" + v.name(), () -> assertThat(variableValues(v)).isNotEmpty())));
    }

    @Test
    void shouldCountEveryInteractionOfTheGalaInTheAnalystsPanels() throws Exception {
        Dashboard analysts = DashboardFiles.dashboard("analysts.json");
        long expected = manifest.expected.distinctValidEvents();
        assertThat(expected).isPositive();
        assertThat(((Number) query(analysts, "Interactions").rows().get(0).get(0)).longValue()).isEqualTo(expected);
        for (String breakdown : List.of("round", "channel", "region")) {
            QueryResult series = query(analysts, "Interactions per minute by " + breakdown);
            long sum = series.values("shakes").stream().mapToLong(v -> ((Number) v).longValue()).sum();
            assertThat(sum).as("interactions per minute by %s, summed", breakdown).isEqualTo(expected);
        }
        QueryResult byChannel = query(analysts, "Interactions per minute by channel");
        assertThat(byChannel.values("metric")).allSatisfy(c -> assertThat(c).isIn("ios", "android", "h5", "tv", "mini_program"));
    }

    @Test
    void shouldBurnTheBudgetDownToWhatEachRoundHasLeft() throws Exception {
        QueryResult burn = query(DashboardFiles.dashboard("analysts.json"), "Budget burn-down by round");
        Map<String, BigDecimal> last = new LinkedHashMap<>();
        for (List<Object> row : burn.rows()) {
            last.put((String) row.get(burn.indexOf("metric")), (BigDecimal) row.get(burn.indexOf("remaining_yuan")));
        }
        try (Connection c = POSTGRES.database().connect("test")) {
            QueryResult paid = QueryResult.run(c, "SELECT 'round ' || round_id, remaining_fen FROM round_paid ORDER BY round_id");
            assertThat(last).hasSize(paid.rows().size());
            for (List<Object> row : paid.rows()) {
                assertThat(last.get((String) row.get(0)).movePointRight(2).longValueExact())
                        .as("%s: last point of the burn-down", row.get(0)).isEqualTo(((Number) row.get(1)).longValue());
            }
        }
    }

    @Test
    void shouldReportTheSameViolationsAsTheReconciliationCli() throws Exception {
        try (Connection c = POSTGRES.database().connect("test")) {
            ReconciliationResult cli = new Reconciliation().expecting(expectedCounts()).run(c);
            assertThat(cli.passed()).as("the CLI's reconciliation of this run").isTrue();
            assertThat(cli.violationCounts()).containsKeys(MANIFEST_CHECKS.toArray(String[]::new));
            actAsGrafana(c);
            Map<String, Long> panel = reconciliationPanel(c);
            // Every check the database alone can answer; the other two compare with a manifest Grafana has not.
            List<String> databaseChecks = cli.checks().stream().map(CheckResult::name)
                    .filter(check -> !MANIFEST_CHECKS.contains(check)).toList();
            assertThat(panel.keySet()).containsExactlyElementsOf(databaseChecks);
            for (String check : databaseChecks) {
                assertThat(panel.get(check)).as(check).isEqualTo(cli.violationCount(check));
            }
        }
    }

    @Test
    void shouldShowFailedChecksWhenTheTablesBreakTheRules() throws Exception {
        try (Connection c = POSTGRES.database().connect("test")) {
            c.setAutoCommit(false);
            try {
                long round1Winners = QueryResult.run(c, "SELECT COUNT(DISTINCT user_id) FROM payout WHERE round_id = 1")
                        .rows().stream().mapToLong(r -> ((Number) r.get(0)).longValue()).sum();
                assertThat(round1Winners).isPositive();
                // Rules tightened below what was paid, and a lost transaction, never committed: the panel turns red.
                try (var st = c.createStatement()) {
                    // As if edited by hand past the database's own guards (V12), within this rolled-back transaction.
                    st.execute("ALTER TABLE round DISABLE TRIGGER USER");
                    st.execute("ALTER TABLE prize_tier DISABLE TRIGGER USER");
                    st.executeUpdate("UPDATE round SET budget_fen = 1, wins_per_round = 0 WHERE round_id = 1");
                    st.executeUpdate("UPDATE prize_tier SET count_cap = 0 WHERE round_id = 1 AND tier_id = 1");
                    st.executeUpdate("INSERT INTO settlement_lost_transaction (gid, sink_name, payouts, payout_fen)"
                            + " VALUES ('hb:test-lost', 'dashboards', 1, 100)");
                    st.executeUpdate("INSERT INTO settlement_quarantine (kind, row_key, round_id, reason, detail, "
                            + "row_data, lineage, sink_name, subtask) VALUES ('payout', 'r1-test', 1, "
                            + "'CONFLICTING_CONTENT', 'test', '{}', 'hongbao.shakes/0/1', 'dashboards', 0)");
                }
                actAsGrafana(c);
                Map<String, Long> panel = reconciliationPanel(c);
                assertThat(panel).containsEntry("OVER_BUDGET", 1L)
                        .containsEntry("TIER_CAP_EXCEEDED", 1L)
                        .containsEntry("USER_WINS_PER_ROUND_EXCEEDED", round1Winners)
                        .containsEntry("LOST_TRANSACTION", 1L)
                        .containsEntry("QUARANTINED", 1L)
                        .containsEntry("DUPLICATE_PAYOUT_ID", 0L);
                assertThat(((Number) run(c, sqlOf(DashboardFiles.dashboard("finance.json"), "Reconciliation"))
                        .rows().get(0).get(0)).longValue()).as("failed checks").isEqualTo(5);
                assertThat(((Number) run(c, sqlOf(DashboardFiles.dashboard("finance.json"), "Quarantined rows"))
                        .rows().get(0).get(0)).longValue()).as("quarantined rows").isOne();
            } finally {
                c.rollback();
            }
        }
    }

    /**
     * The schedule panel shows what the reconciliation CLI lists (one view, round_schedule): every round, its window
     * and config version; and, after a window move and a round added through the database's own rules (in a
     * rolled-back transaction), the moved window, the window it was registered with and both schedule lines.
     */
    @Test
    void shouldShowTheScheduleAsAppliedAsTheReconciliationCliDoes() throws Exception {
        Dashboard analysts = DashboardFiles.dashboard("analysts.json");
        try (Connection c = POSTGRES.database().connect("test")) {
            List<String> cli = new ArrayList<>();
            for (RoundSchedule r : new Reconciliation().run(c).schedule()) {
                cli.add(r.roundId() + " " + r.name() + " " + r.startsAt() + " " + r.endsAt() + " v" + r.configVersion());
            }
            List<String> panel = new ArrayList<>();
            try (Connection g = grafanaConnection()) {
                QueryResult rows = run(g, sqlOf(analysts, "Schedule as applied"));
                for (List<Object> row : rows.rows()) {
                    panel.add(row.get(rows.indexOf("round")) + " " + instant(row.get(rows.indexOf("starts"))) + " "
                            + instant(row.get(rows.indexOf("ends"))) + " " + row.get(rows.indexOf("version")));
                }
            }
            assertThat(panel).as("no schedule lines in this run: one row per round").containsExactlyInAnyOrderElementsOf(cli);

            c.setAutoCommit(false);
            try {
                try (var st = c.createStatement()) {
                    // Round 1 extended by a minute, effective a minute before its end; round 99 added from round 1.
                    st.execute("INSERT INTO round_ledger (entry_id, round_id, kind, amount_fen, budget_fen_after, detail, "
                            + "effective_at, source) SELECT 'change-test-1', 1, 'RESCHEDULED', 0, budget_fen, 'extended', "
                            + "ends_at - interval '1 minute', 'hongbao.control/0/1' FROM round WHERE round_id = 1");
                    st.execute("SELECT settlement_apply_round_config(round_id, budget_fen, paused, config_version + 1, "
                            + "starts_at, ends_at + interval '1 minute') FROM round WHERE round_id = 1");
                    // The campaign is the rounds' budgets exactly: room for round 99 first.
                    st.execute("ALTER TABLE campaign DISABLE TRIGGER USER");
                    st.execute("UPDATE campaign SET budget_fen = budget_fen + 1000");
                    st.execute("INSERT INTO round_ledger (entry_id, round_id, kind, amount_fen, budget_fen_after, detail, "
                            + "effective_at, source) SELECT 'change-test-2', 99, 'ROUND_ADDED', 1000, 1000, 'added', "
                            + "ends_at, 'hongbao.control/0/2' FROM round WHERE round_id = 1");
                    st.execute("SELECT settlement_add_round(99, 'added', r.ends_at + interval '1 minute', r.ends_at "
                            + "+ interval '11 minutes', 1000, r.win_per_million, r.wins_per_round, r.fen_per_gala, false, 1, "
                            + "array_agg(t.tier_id ORDER BY t.tier_id), array_agg(t.name ORDER BY t.tier_id), "
                            + "array_agg(t.min_fen ORDER BY t.tier_id), array_agg(t.max_fen ORDER BY t.tier_id), "
                            + "array_agg(t.count_cap ORDER BY t.tier_id), array_agg(t.weight ORDER BY t.tier_id)) "
                            + "FROM round r JOIN prize_tier t USING (round_id) WHERE r.round_id = 1 "
                            + "GROUP BY r.ends_at, r.win_per_million, r.wins_per_round, r.fen_per_gala");
                }
                actAsGrafana(c);
                // $round at All as Grafana would list it now, round 99 included.
                String sql = analysts.panels().stream().filter(x -> x.title().equals("Schedule as applied")).findFirst()
                        .orElseThrow().targets().get(0).rawSql();
                QueryResult rows = run(c, expand(analysts, sql, c));
                List<String> lines = new ArrayList<>();
                for (List<Object> row : rows.rows()) {
                    if ("".equals(row.get(rows.indexOf("line")))) {
                        continue;
                    }
                    String round = row.get(rows.indexOf("round")).toString().split(" ")[0];
                    String applied = row.get(rows.indexOf("applied")).toString();
                    lines.add(round + " " + row.get(rows.indexOf("line")) + " " + row.get(rows.indexOf("change")) + " "
                            + applied.replaceAll(" v[0-9]+:.*", ""));
                    if (round.equals("1")) {
                        assertThat(applied).as("the move").startsWith(
                                "applied " + row.get(rows.indexOf("version")) + ": [");
                        assertThat(instant(row.get(rows.indexOf("registered_ends"))).plusSeconds(60))
                                .as("registered end, a minute before the end now")
                                .isEqualTo(instant(row.get(rows.indexOf("ends"))));
                    }
                }
                assertThat(lines).containsExactly("1 RESCHEDULED change-test-1 applied",
                        "99 ROUND_ADDED change-test-2 round added");
            } finally {
                c.rollback();
            }
        }
    }

    /** A connection as Grafana's own login: the rights it has are exactly what the provisioned data source has. */
    private static Connection grafanaConnection() throws Exception {
        Connection c = grafana.connect("grafana");
        assertGrafana(c);
        return c;
    }

    /**
     * Turns the admin's connection, with what it changed in its open transaction, into Grafana's login
     * ({@code SET ROLE} fails when the login does not exist): for rows a test must roll back afterwards.
     */
    private static void actAsGrafana(Connection c) throws Exception {
        try (var st = c.createStatement()) {
            st.execute("SET ROLE " + GRAFANA_LOGIN);
        }
        assertGrafana(c);
    }

    private static void assertGrafana(Connection c) throws Exception {
        QueryResult who = QueryResult.run(c, "SELECT current_user::text, r.rolsuper, "
                + "pg_has_role(current_user, 'hongbao_grafana', 'USAGE'), "
                + "has_table_privilege('payout', 'SELECT') FROM pg_roles r WHERE r.rolname = current_user");
        assertThat(who.rows()).as("the queries run as Grafana's login, a reader of aggregates only")
                .containsExactly(List.of(GRAFANA_LOGIN, false, true, false));
    }

    private static ExpectedCounts expectedCounts() {
        Map<Integer, Long> shakes = new TreeMap<>();
        manifest.expected.rounds().forEach((round, counts) -> shakes.put(round, counts.distinctEvents()));
        Map<String, Long> rejected = new TreeMap<>();
        manifest.expected.rejected().forEach((reason, records) -> rejected.put(reason.name(), records));
        return new ExpectedCounts(shakes, rejected);
    }

    private static Map<String, Long> reconciliationPanel(Connection c) throws Exception {
        QueryResult checks = run(c, sqlOf(DashboardFiles.dashboard("finance.json"), "Reconciliation checks"));
        Map<String, Long> out = new LinkedHashMap<>();
        for (List<Object> row : checks.rows()) {
            long violations = ((Number) row.get(checks.indexOf("violations"))).longValue();
            out.put((String) row.get(checks.indexOf("check")), violations);
            assertThat(row.get(checks.indexOf("status"))).isEqualTo(violations == 0 ? "PASS" : "FAIL");
        }
        return out;
    }

    private static void checkPanelQuery(Dashboard d, Panel p, Target t) throws Exception {
        QueryResult result = query(d, t);
        String what = d.title() + " / " + p.describe() + " / " + t.refId();
        assertThat(result.rows()).as("%s returns rows", what).isNotEmpty();
        assertThat(result.columnNames()).as("%s: columns the panel refers to", what).containsAll(p.referencedFields());
        if ("time_series".equals(t.format())) {
            assertThat(result.columnNames()).as(what).contains("time");
            assertThat(result.column("time").isTime()).as("%s: time column type", what).isTrue();
            List<Column> values = result.columns().stream()
                    .filter(c -> !c.name().equals("time") && !c.name().equals("metric")).toList();
            assertThat(values).as("%s: value columns", what).isNotEmpty().allMatch(Column::isNumeric);
            if (result.columnNames().contains("metric")) {
                assertThat(result.column("metric").isText()).as("%s: metric column is text", what).isTrue();
            }
            List<Instant> times = result.values("time").stream().map(DashboardSqlITCase::instant).toList();
            assertThat(times).as("%s: rows in time order", what).isSorted();
            assertThat(times).as("%s: inside the time range", what)
                    .allSatisfy(ts -> assertThat(ts).isBetween(range.from(), range.to()));
        }
        if (List.of("stat", "bargauge", "piechart", "barchart").contains(p.type())) {
            assertThat(result.columns()).as("%s: a numeric field to show", what).anyMatch(Column::isNumeric);
            for (Column c : result.columns()) {
                if (c.isNumeric()) {
                    assertThat(result.values(c.name())).as("%s: %s", what, c.name()).doesNotContainNull();
                }
            }
        }
    }

    private static Instant instant(Object time) {
        if (time instanceof Number n) {
            return Instant.ofEpochMilli(Math.round(n.doubleValue() * 1000));
        }
        if (time instanceof java.sql.Timestamp ts) {
            return ts.toInstant();
        }
        return ((OffsetDateTime) time).toInstant();
    }

    private static QueryResult query(Dashboard d, String panelTitle) throws Exception {
        try (Connection c = grafanaConnection()) {
            return run(c, sqlOf(d, panelTitle));
        }
    }

    private static QueryResult query(Dashboard d, Target t) throws Exception {
        try (Connection c = grafanaConnection()) {
            return run(c, expand(d, t.rawSql()));
        }
    }

    private static QueryResult run(Connection c, String sql) throws Exception {
        return QueryResult.run(c, sql);
    }

    private static String sqlOf(Dashboard d, String panelTitle) throws Exception {
        Panel p = d.panels().stream().filter(x -> x.title().equals(panelTitle)).findFirst().orElseThrow();
        return expand(d, p.targets().get(0).rawSql());
    }

    /** The panel's SQL as Grafana sends it: every variable at "All", macros for the test's time range. */
    private static String expand(Dashboard d, String sql) throws Exception {
        try (Connection c = grafanaConnection()) {
            return expand(d, sql, c);
        }
    }

    /** As above, with the variables' options as {@code c} sees them (rows of its open transaction included). */
    private static String expand(Dashboard d, String sql, Connection c) throws Exception {
        Map<String, List<String>> variables = new LinkedHashMap<>();
        for (Variable v : d.variables()) {
            if (v.isSql()) {
                variables.put(v.name(), variableValues(v, c));
            }
        }
        return GrafanaSqlMacros.expand(sql, range, variables);
    }

    /** A query variable's options: its {@code __value} column (Grafana's convention for value/text pairs). */
    private static List<String> variableValues(Variable v) throws Exception {
        try (Connection c = grafanaConnection()) {
            return variableValues(v, c);
        }
    }

    private static List<String> variableValues(Variable v, Connection c) throws Exception {
        assertThat(v.type()).isEqualTo("query");
        assertThat(v.datasourceUid()).isEqualTo(DashboardFiles.POSTGRES_UID);
        QueryResult options = QueryResult.run(c, GrafanaSqlMacros.expandMacros(v.query(), range));
        assertThat(options.columnNames()).contains("__value", "__text");
        return options.values("__value").stream().map(String::valueOf).toList();
    }
}
