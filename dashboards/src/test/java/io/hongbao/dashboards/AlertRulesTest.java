package io.hongbao.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules of {@code infra/prometheus/hongbao-alerts.yml}: valid for {@code promtool check rules}, loaded
 * by the compose stack's {@code prometheus.yml}, and passing their unit tests ({@code promtool test rules
 * hongbao-alerts.test.yml}), which make each alert fire and not fire.
 */
class AlertRulesTest {
    @TempDir
    Path dir;

    @Test
    void shouldPassPromtoolCheckRules() throws Exception {
        int alerts = AlertRules.alerts().size();
        assertThat(alerts).isGreaterThanOrEqualTo(10);
        assertThat(PrometheusServer.promtool(AlertRules.dir(), "check", "rules", AlertRules.rules().toString()))
                .contains("SUCCESS: " + alerts + " rules found");
    }

    @Test
    void shouldBeLoadedByThePrometheusConfig() throws Exception {
        // check config also checks every rule file the config names (relative to the config's folder).
        Path config = AlertRules.dir().resolve("prometheus.yml");
        assertThat(DashboardFiles.yaml(config).path("rule_files").toString()).contains("hongbao-alerts.yml");
        assertThat(PrometheusServer.promtool(AlertRules.dir(), "check", "config", config.toString()))
                .contains("SUCCESS: " + AlertRules.alerts().size() + " rules found");
    }

    @Test
    void shouldPassPromtoolTestRules() throws Exception {
        assertThat(PrometheusServer.promtool(AlertRules.dir(), "test", "rules", AlertRules.tests().toString()))
                .contains("SUCCESS");
    }

    /** Every alert has a severity, a summary and a description, and its tests see it fire and stay quiet. */
    @Test
    void shouldDescribeAndTestEveryAlert() {
        Map<String, Integer> firing = new HashMap<>();
        Map<String, Integer> quiet = new HashMap<>();
        for (JsonNode test : DashboardFiles.yaml(AlertRules.tests()).path("tests")) {
            for (JsonNode check : test.path("alert_rule_test")) {
                String name = check.path("alertname").asText();
                (check.path("exp_alerts").isEmpty() ? quiet : firing).merge(name, 1, Integer::sum);
            }
        }
        Set<String> untested = new TreeSet<>();
        AlertRules.alerts().forEach((name, rule) -> {
            assertThat(rule.path("labels").path("severity").asText()).as("%s severity", name).isIn("warning", "critical");
            assertThat(rule.path("annotations").path("summary").asText()).as("%s summary", name).isNotBlank();
            assertThat(rule.path("annotations").path("description").asText()).as("%s description", name).isNotBlank();
            if (!firing.containsKey(name) || !quiet.containsKey(name)) {
                untested.add(name);
            }
        });
        assertThat(untested).as("alerts without a firing and a quiet case in %s", AlertRules.tests()).isEmpty();
        assertThat(firing.keySet()).as("tests of alerts that do not exist").isSubsetOf(AlertRules.alerts().keySet());
    }

    /** The tests constrain the rules: the same tests on a rule file with one threshold changed fail. */
    @Test
    void shouldFailTheTestsOfABrokenRule() throws Exception {
        String rules = Files.readString(AlertRules.rules());
        String slow = "lastCheckpointDuration{job_name=~\"hongbao.payouts.*\"}) > 10000";
        assertThat(rules).contains(slow);
        Files.writeString(dir.resolve("hongbao-alerts.yml"), rules.replace(slow, slow.replace("10000", "20000")));
        Files.copy(AlertRules.tests(), dir.resolve("hongbao-alerts.test.yml"));
        PrometheusServer.Run run = PrometheusServer.runPromtool(dir, "test", "rules", "hongbao-alerts.test.yml");
        assertThat(run.exit()).as(run.output()).isNotZero();
        assertThat(run.output()).contains("HongbaoCheckpointSlowerThanInterval");
    }
}
