package io.hongbao.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.hongbao.dashboards.Dashboard.Panel;
import io.hongbao.dashboards.Dashboard.Target;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The provisioning files and the dashboards fit together the way Grafana loads them. */
class DashboardFilesTest {
    private static final Map<String, String> PROVISIONED_TYPES = Map.of(
            DashboardFiles.POSTGRES_UID, "grafana-postgresql-datasource",
            DashboardFiles.PROMETHEUS_UID, "prometheus");

    @Test
    void shouldProvisionBothDataSourcesWithCredentialsFromTheEnvironment() {
        JsonNode yaml = DashboardFiles.datasourceProvisioning();
        assertThat(yaml.path("apiVersion").asInt()).isEqualTo(1);
        Map<String, JsonNode> byUid = new java.util.HashMap<>();
        for (JsonNode ds : yaml.path("datasources")) {
            byUid.put(ds.path("uid").asText(), ds);
            assertThat(ds.path("name").asText()).isNotBlank();
        }
        assertThat(byUid).hasSize(2);
        PROVISIONED_TYPES.forEach((uid, type) -> assertThat(byUid.get(uid).path("type").asText()).as(uid).isEqualTo(type));
        JsonNode pg = byUid.get(DashboardFiles.POSTGRES_UID);
        // Nothing secret or site-specific is written in the file: Grafana fills these from the environment.
        for (String value : List.of(pg.path("url").asText(), pg.path("user").asText(),
                pg.path("secureJsonData").path("password").asText(), pg.path("jsonData").path("database").asText())) {
            assertThat(value).matches("\\$\\{[A-Z0-9_]+}");
        }
        assertThat(byUid.get(DashboardFiles.PROMETHEUS_UID).path("url").asText()).matches("\\$\\{[A-Z0-9_]+}");
    }

    @Test
    void shouldDocumentEveryEnvironmentVariableTheProvisioningReads() throws Exception {
        String readme = Files.readString(DashboardFiles.root().resolve("README.md"));
        Set<String> vars = new TreeSet<>();
        for (String file : List.of("provisioning/datasources/hongbao.yaml", "provisioning/dashboards/hongbao.yaml")) {
            Matcher m = Pattern.compile("\\$\\{([A-Z0-9_]+)}").matcher(Files.readString(DashboardFiles.root().resolve(file)));
            while (m.find()) {
                vars.add(m.group(1));
            }
        }
        assertThat(vars).isNotEmpty();
        assertThat(vars).allSatisfy(v -> assertThat(readme).contains(v));
    }

    @Test
    void shouldLoadTheJsonFolderThroughAFileProvider() throws Exception {
        JsonNode yaml = DashboardFiles.dashboardProvisioning();
        assertThat(yaml.path("apiVersion").asInt()).isEqualTo(1);
        JsonNode provider = yaml.path("providers").get(0);
        assertThat(provider.path("type").asText()).isEqualTo("file");
        assertThat(provider.path("options").path("path").asText()).isEqualTo(DashboardFiles.GRAFANA_DASHBOARDS_DIR);
        assertThat(Files.readString(DashboardFiles.root().resolve("README.md")))
                .contains(DashboardFiles.GRAFANA_DASHBOARDS_DIR);
        assertThat(DashboardFiles.dashboards()).extracting(d -> d.file().getFileName().toString())
                .containsExactly("analysts.json", "finance.json", "operators.json");
    }

    @Test
    void shouldGiveEveryDashboardAUniqueUidATitleAndPanels() {
        Set<String> uids = new HashSet<>();
        for (Dashboard d : DashboardFiles.dashboards()) {
            assertThat(d.uid()).as(d.file().toString()).isNotBlank();
            assertThat(uids.add(d.uid())).as("uid %s is unique", d.uid()).isTrue();
            assertThat(d.title()).as(d.file().toString()).isNotBlank();
            assertThat(d.json().path("schemaVersion").asInt()).isPositive();
            assertThat(d.panels()).as(d.title()).isNotEmpty();
            Set<Integer> ids = new HashSet<>();
            for (Panel p : d.panels()) {
                assertThat(ids.add(p.id())).as("%s: %s has a unique id", d.title(), p.describe()).isTrue();
                assertThat(p.title()).isNotBlank();
                assertThat(p.json().path("gridPos").path("w").asInt()).isBetween(1, 24);
            }
        }
    }

    @Test
    void shouldQueryOnlyProvisionedDataSources() {
        for (Dashboard d : DashboardFiles.dashboards()) {
            for (Panel p : d.panels()) {
                assertThat(p.datasourceUid()).as("%s: %s", d.title(), p.describe()).isIn(PROVISIONED_TYPES.keySet());
                assertThat(p.json().path("datasource").path("type").asText())
                        .isEqualTo(PROVISIONED_TYPES.get(p.datasourceUid()));
                assertThat(p.targets()).as("%s: %s", d.title(), p.describe()).isNotEmpty();
                for (Target t : p.targets()) {
                    assertThat(t.datasourceUid()).as("%s: %s %s", d.title(), p.describe(), t.refId())
                            .isIn(PROVISIONED_TYPES.keySet());
                    if (t.isSql()) {
                        assertThat(t.rawSql()).isNotBlank();
                        assertThat(t.format()).isIn("time_series", "table");
                    } else {
                        assertThat(t.expr()).isNotBlank();
                    }
                }
            }
            for (Dashboard.Variable v : d.variables()) {
                assertThat(v.datasourceUid()).isIn(PROVISIONED_TYPES.keySet());
            }
        }
    }

    @Test
    void shouldDefineEveryVariableAPanelUses() {
        for (Dashboard d : DashboardFiles.dashboards()) {
            Set<String> defined = new HashSet<>();
            d.variables().forEach(v -> defined.add(v.name()));
            for (Target t : d.panels().stream().flatMap(p -> p.targets().stream()).toList()) {
                Matcher m = Pattern.compile("\\$\\{?([A-Za-z][A-Za-z0-9_]*)").matcher(t.isSql() ? t.rawSql() : t.expr());
                while (m.find()) {
                    assertThat(defined).as("%s uses $%s", d.title(), m.group(1)).contains(m.group(1));
                }
            }
        }
    }

    @Test
    void shouldServeAnalystsOperatorsAndFinance() {
        Dashboard analysts = DashboardFiles.dashboard("analysts.json");
        assertThat(String.join("\n", analysts.sqlTargets().stream().map(Target::rawSql).toList()))
                .contains("interaction_count", "payout_minute", "round_paid", "round_schedule");
        assertThat(analysts.panels()).extracting(Panel::title).contains("Interactions per minute by round",
                "Interactions per minute by channel", "Interactions per minute by region", "Win rate per minute by round",
                "Payout amount per minute by round", "Budget burn-down by round", "Top regions", "Schedule as applied");
        Dashboard operators = DashboardFiles.dashboard("operators.json");
        assertThat(operators.sqlTargets()).isEmpty();
        // Operators pick the Flink job: every expression is narrowed by the job variable.
        assertThat(operators.promQlTargets()).allSatisfy(t -> assertThat(t.expr()).contains("job_name=~\"$job\""));
        assertThat(String.join("\n", operators.promQlTargets().stream().map(Target::expr).toList()))
                .contains("records_lag_max", "lastCheckpointDuration", "lastCheckpointSize", "backPressuredTimeMsPerSecond",
                        "numRestarts", "numRecordsIn");
        Dashboard finance = DashboardFiles.dashboard("finance.json");
        assertThat(finance.panels()).extracting(Panel::title).contains("Per-round totals vs budget",
                "Per-tier packets vs cap", "Reconciliation checks");
    }

    @Test
    void shouldReadNoPerUserRowsFromPostgres() {
        // Grafana's role sees aggregates only (V3 roles, V10 views): no query may name the per-user tables.
        for (Dashboard d : DashboardFiles.dashboards()) {
            for (Target t : d.sqlTargets()) {
                assertThat(t.rawSql()).as(d.title()).doesNotContainPattern("(?i)\\b(payout|round_ledger)\\b");
            }
        }
    }
}
