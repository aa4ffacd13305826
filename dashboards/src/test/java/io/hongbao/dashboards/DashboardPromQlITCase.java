package io.hongbao.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.hongbao.dashboards.Dashboard.Panel;
import io.hongbao.dashboards.Dashboard.Target;
import io.hongbao.dashboards.Dashboard.Variable;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.JobEnvironment;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every PromQL expression of every dashboard: valid for {@code promtool}, and returning data from a real
 * Prometheus that scrapes Flink's PrometheusReporter while the payout job runs on the tiny gala.
 */
class DashboardPromQlITCase {
    /** What the test substitutes for Grafana's interval variables: several 1 s scrapes wide. */
    private static final Map<String, String> GRAFANA_INTERVALS = Map.of(
            "$__rate_interval", "15s", "$__interval", "5s", "$__range", "5m");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([^,]+?)\\s*,\\s*(\\w+)\\s*\\)");
    /** The reporter's port: a free one of the ports assigned to these tests (38250-38259). */
    private static final int REPORTER_PORT = PrometheusServer.freePort(IntStream.rangeClosed(38250, 38259));

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
            .setConfiguration(reporterConfiguration())
            .build());

    @TempDir
    Path dir;

    private static Configuration reporterConfiguration() {
        Configuration conf = new Configuration();
        conf.setString("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        conf.setString("metrics.reporter.prom.port", String.valueOf(REPORTER_PORT));
        return conf;
    }

    @Test
    void shouldPassPromtoolAsRecordingRules() throws Exception {
        Map<String, String> allValues = new LinkedHashMap<>();
        for (Dashboard d : DashboardFiles.dashboards()) {
            d.variables().stream().filter(Variable::isPromQl).forEach(v -> allValues.put(v.name(), v.allValue()));
        }
        List<String> exprs = targets().values().stream().map(t -> promQl(t, allValues)).toList();
        assertThat(exprs).hasSizeGreaterThan(15);
        StringBuilder rules = new StringBuilder("groups:\n  - name: hongbao-dashboards\n    rules:\n");
        for (int i = 0; i < exprs.size(); i++) {
            rules.append("      - record: hongbao_dashboard:expr_").append(i).append('\n')
                    .append("        expr: '").append(exprs.get(i).replace("'", "''")).append("'\n");
        }
        Path file = dir.resolve("dashboard-rules.yml");
        Files.writeString(file, rules);
        assertThat(PrometheusServer.promtool(dir, "check", "rules", file.toString()))
                .contains("SUCCESS: " + exprs.size() + " rules found");
    }

    @Test
    void shouldReturnDataForEveryExpressionWhileTheJobRuns() throws Exception {
        TinyGalaRun run = new TinyGalaRun(KAFKA);
        Manifest manifest = run.produce(7);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(
                JobEnvironment.configuration(dir.resolve("checkpoints").toUri().toString(), Duration.ofMillis(500)));
        env.setParallelism(2);
        run.buildJob(env, POSTGRES.jobLogin(), false); // as the job connects: hongbao_writer, no superuser
        JobClient job = env.executeAsync("payout job scraped by Prometheus");
        int prometheusPort = PrometheusServer.freePort(IntStream.concat(IntStream.of(38090), IntStream.rangeClosed(38100, 38199)));
        try (PrometheusServer prometheus = PrometheusServer.start(dir, prometheusPort, "127.0.0.1:" + REPORTER_PORT)) {
            // The whole gala decided and scraped: the shakes counter reached the manifest's distinct valid shakes.
            String decided = "sum(flink_taskmanager_job_task_operator_hongbao_shakes)";
            awaitValue(prometheus, decided, manifest.expected.distinctValidEvents(), Duration.ofMinutes(3));
            Map<String, String> variables = variableSelections(prometheus);
            Map<String, Target> targets = targets();
            Map<String, String> exprs = new LinkedHashMap<>();
            targets.forEach((name, t) -> exprs.put(name, promQl(t, variables)));
            Map<String, String> empty = new LinkedHashMap<>();
            Map<String, JsonNode> answers = new LinkedHashMap<>();
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            do {
                empty.clear();
                for (Map.Entry<String, String> e : exprs.entrySet()) {
                    JsonNode result = prometheus.query(e.getValue());
                    answers.put(e.getKey(), result);
                    if (result.isEmpty()) {
                        empty.put(e.getKey(), e.getValue());
                    }
                }
                if (!empty.isEmpty()) {
                    Thread.sleep(2_000);
                }
            } while (!empty.isEmpty() && Instant.now().isBefore(deadline));
            assertThat(empty).as("expressions without data; Prometheus knows these metrics: %s",
                    prometheus.metricNames().stream().filter(n -> n.startsWith("flink_")).toList()).isEmpty();
            answers.forEach((panel, result) -> {
                for (JsonNode series : result) {
                    for (String label : targets.get(panel).legendLabels()) {
                        assertThat(series.path("metric").path(label).asText()).as("%s: label %s of %s", panel, label,
                                series.path("metric")).isNotEmpty();
                    }
                }
            });
            assertRemainingBudgetAgreesWithSettlement(prometheus);
            assertAlertRulesReadRealSeries(prometheus);
            answers.forEach((panel, result) -> System.out.printf("promql: %s -> %d series, first %s%n", panel,
                    result.size(), result.get(0).path("value").get(1).asText()));
        } finally {
            job.cancel().get();
            // Cancelling is acknowledged before the tasks are gone; they may still write checkpoint files.
            while (!job.getJobStatus().get().isGloballyTerminalState()) {
                Thread.sleep(100);
            }
        }
    }

    /**
     * The alert rules (infra/prometheus/hongbao-alerts.yml) read metrics this run exports under these names, and
     * each expression evaluates on the real series (AlertRulesTest checks when they fire, on synthetic ones).
     */
    private static void assertAlertRulesReadRealSeries(PrometheusServer prometheus) throws Exception {
        List<String> known = prometheus.metricNames();
        assertThat(known).as("metrics the alert rules read").containsAll(AlertRules.metricNames());
        for (JsonNode rule : AlertRules.alerts().values()) {
            prometheus.query(rule.path("expr").asText()); // fails on an API error
        }
    }

    private static void awaitValue(PrometheusServer prometheus, String expr, long expected, Duration timeout)
            throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        double last = Double.NaN;
        while (Instant.now().isBefore(deadline)) {
            JsonNode result = prometheus.query(expr);
            if (!result.isEmpty()) {
                last = Double.parseDouble(result.get(0).path("value").get(1).asText());
                if (last == expected) {
                    return;
                }
            }
            Thread.sleep(1_000);
        }
        throw new AssertionError(expr + " = " + last + ", expected " + expected + " within " + timeout);
    }

    /**
     * The analysts' live remaining budget per round, once the job has settled everything, is what the settlement
     * tables say each round has left (the job's gauges and the committed payouts describe the same money).
     */
    private static void assertRemainingBudgetAgreesWithSettlement(PrometheusServer prometheus) throws Exception {
        String expr = promQl(targets().get("hongbao — analysts / Remaining budget (live, from the job) / A"), Map.of());
        Map<String, Long> settled = new LinkedHashMap<>();
        Map<String, Long> live = new LinkedHashMap<>();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        do {
            settled.clear();
            live.clear();
            try (Connection c = POSTGRES.database().connect("test"); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT round_id, remaining_fen FROM round_paid")) {
                while (rs.next()) {
                    settled.put(String.valueOf(rs.getInt(1)), rs.getLong(2));
                }
            }
            for (JsonNode series : prometheus.query(expr)) {
                live.put(series.path("metric").path("round").asText(),
                        (long) Double.parseDouble(series.path("value").get(1).asText()));
            }
            if (live.equals(settled)) {
                return;
            }
            Thread.sleep(1_000);
        } while (Instant.now().isBefore(deadline));
        assertThat(live).as("remaining fen per round: job gauges vs round_paid").isEqualTo(settled);
    }

    /**
     * Each Prometheus template variable's options, from its {@code label_values(metric, label)} query, selected
     * all at once the way Grafana writes a multi-value selection into a regex matcher: {@code (a|b)}.
     */
    private static Map<String, String> variableSelections(PrometheusServer prometheus) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        for (Dashboard d : DashboardFiles.dashboards()) {
            for (Variable v : d.variables()) {
                if (!v.isPromQl()) {
                    continue;
                }
                Matcher m = LABEL_VALUES.matcher(v.query());
                assertThat(m.matches()).as("$%s: %s is label_values(metric, label)", v.name(), v.query()).isTrue();
                List<String> values = prometheus.labelValues(m.group(2), m.group(1));
                assertThat(values).as("options of $%s", v.name()).isNotEmpty();
                out.put(v.name(), values.size() == 1 ? regexEscape(values.get(0))
                        : "(" + String.join("|", values.stream().map(DashboardPromQlITCase::regexEscape).toList()) + ")");
            }
        }
        return out;
    }

    /** A label value as a literal inside a PromQL regex string (backslashes doubled for the string literal). */
    private static String regexEscape(String value) {
        return value.replaceAll("[.*+?^${}()|\\[\\]\\\\]", "\\\\\\\\$0").replace("\"", "\\\"");
    }

    private static String promQl(Target t, Map<String, String> variables) {
        String expr = t.expr();
        for (Map.Entry<String, String> v : GRAFANA_INTERVALS.entrySet()) {
            expr = expr.replace(v.getKey(), v.getValue());
        }
        for (Map.Entry<String, String> v : variables.entrySet()) {
            expr = expr.replace("${" + v.getKey() + "}", v.getValue()).replace("$" + v.getKey(), v.getValue());
        }
        assertThat(expr).as(t.refId()).doesNotContain("$");
        return expr;
    }

    /** Every PromQL query of every dashboard, by "dashboard / panel / refId". */
    private static Map<String, Target> targets() {
        Map<String, Target> out = new LinkedHashMap<>();
        for (Dashboard d : DashboardFiles.dashboards()) {
            for (Panel p : d.panels()) {
                for (Target t : p.targets()) {
                    if (t.isPromQl()) {
                        out.put(d.title() + " / " + p.title() + " / " + t.refId(), t);
                    }
                }
            }
        }
        return out;
    }
}
