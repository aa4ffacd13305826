package io.hongbao.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The root docker-compose.yml, checked without a Docker engine: the services the stack promises, images pinned
 * by tag, the published ports, every mounted file present in the repository (or built by its module), the
 * Flink config template fully rendered, Prometheus scraping what the reporters expose, Grafana loading the
 * dashboards from where the provisioning says, and no secret written into the file.
 */
class ComposeStackTest {
    private static final Path ROOT = RepositoryFiles.root();
    private static final JsonNode COMPOSE = read(ROOT.resolve("docker-compose.yml"));
    private static final JsonNode SERVICES = COMPOSE.path("services");

    @Test
    void shouldRunTheWholeStack() {
        assertThat(names(SERVICES)).contains("kafka", "postgres", "settlement-migrate", "settlement-logins",
                "jobmanager", "taskmanager", "payout-job", "prometheus", "grafana", "checkpoints-dc-a", "checkpoints-dc-b",
                "checkpoint-buckets");
        assertThat(SERVICES.path("payout-job").path("command").toString())
                .as("the job is submitted on start").contains("flink run").contains("io.hongbao.jobs.PayoutJob");
    }

    @Test
    void shouldPinEveryImageByTag() {
        SERVICES.properties().forEach(s -> {
            String image = s.getValue().path("image").asText();
            assertThat(image).as("image of %s", s.getKey()).matches("[a-z0-9./_-]+:[A-Za-z0-9._-]+")
                    .doesNotEndWith(":latest");
        });
    }

    @Test
    void shouldPublishTheOperatorFacingPorts() {
        assertThat(ports("kafka")).contains("9092:9092");
        assertThat(ports("jobmanager")).contains("8081:8081");
        assertThat(ports("postgres")).contains("5432:5432");
        assertThat(ports("prometheus")).contains("9090:9090");
        assertThat(ports("grafana")).contains("3000:3000");
    }

    @Test
    void shouldMountOnlyFilesThatExistOrAreBuilt() throws IOException {
        List<String> sources = new ArrayList<>();
        SERVICES.properties().forEach(s -> s.getValue().path("volumes").forEach(v -> {
            String source = v.asText().split(":")[0];
            if (source.startsWith("./")) {
                sources.add(source);
            }
        }));
        assertThat(sources).isNotEmpty();
        for (String source : sources) {
            Path path = ROOT.resolve(source);
            int target = source.indexOf("/target/");
            if (target < 0) {
                assertThat(path).as("mounted %s", source).exists();
            } else {
                // A build output: its module must exist and its pom must name the file it builds.
                Path pom = ROOT.resolve(source.substring(2, target)).resolve("pom.xml");
                String jar = path.getFileName().toString().replaceFirst("\\.jar$", "");
                assertThat(Files.readString(pom)).as("%s builds %s", pom, source).contains(jar);
            }
        }
    }

    @Test
    void shouldRenderEveryPlaceholderOfTheFlinkConfig() throws IOException {
        String template = Files.readString(ROOT.resolve("infra/flink/config.yaml"));
        Set<String> placeholders = new TreeSet<>();
        Matcher m = Pattern.compile("@[A-Z_]+@").matcher(template);
        while (m.find()) {
            placeholders.add(m.group());
        }
        String render = SERVICES.path("flink-config").path("command").toString();
        assertThat(placeholders).isNotEmpty().allSatisfy(p -> assertThat(render).as("renders %s", p)
                .satisfiesAnyOf(r -> assertThat(r).contains("s/" + p + "/"), r -> assertThat(r).contains("s|" + p + "|")));
        assertThat(render).contains("s/@PROMETHEUS_PORTS@/9249/");
    }

    @Test
    void shouldScrapeTheFlinkReportersAndLoadTheDashboards() throws IOException {
        JsonNode prometheus = read(ROOT.resolve("infra/prometheus/prometheus.yml"));
        assertThat(prometheus.toString()).contains("jobmanager:9249").contains("taskmanager:9249");
        assertThat(SERVICES.path("prometheus").path("volumes").toString())
                .contains("./infra/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml");

        String grafanaMounts = SERVICES.path("grafana").path("volumes").toString();
        assertThat(grafanaMounts).contains("./dashboards/provisioning:/etc/grafana/provisioning");
        try (var files = Files.list(ROOT.resolve("dashboards/provisioning/dashboards"))) {
            for (Path provider : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
                read(provider).path("providers").forEach(p -> assertThat(grafanaMounts)
                        .as("dashboards mounted where %s loads them", provider)
                        .contains("./dashboards/json:" + p.path("options").path("path").asText()));
            }
        }
        // Every variable the datasources read is set on the Grafana service.
        String datasources = Files.readString(ROOT.resolve("dashboards/provisioning/datasources/hongbao.yaml"))
                .replaceAll("(?m)^\\s*#.*$", "");
        Matcher env = Pattern.compile("\\$\\{([A-Z_]+)}").matcher(datasources);
        while (env.find()) {
            assertThat(SERVICES.path("grafana").path("environment").has(env.group(1))).as(env.group(1)).isTrue();
        }
    }

    @Test
    void shouldConnectTheJobAndGrafanaAsTheirOwnLoginsNeverTheAdmin() throws IOException {
        String admin = SERVICES.path("postgres").path("environment").path("POSTGRES_USER").asText();
        String logins = Files.readString(ROOT.resolve("settlement-sink/sql/logins.sql"));
        String job = SERVICES.path("payout-job").path("command").toString();
        Matcher jobUser = Pattern.compile("--jdbc-user (\\w+)").matcher(job);
        assertThat(jobUser.find()).as("the job names its user").isTrue();
        String grafanaUser = SERVICES.path("grafana").path("environment").path("HONGBAO_GRAFANA_DB_USER").asText();

        assertThat(jobUser.group(1)).isNotEqualTo(admin);
        assertThat(logins).contains("GRANT hongbao_writer TO " + jobUser.group(1) + ";");
        assertThat(grafanaUser).isNotEqualTo(admin);
        assertThat(logins).contains("GRANT hongbao_grafana TO " + grafanaUser + ";");
        // The logins exist (and the schema is migrated) before either connects.
        for (String service : List.of("payout-job", "grafana")) {
            assertThat(SERVICES.path(service).path("depends_on").path("settlement-logins").path("condition").asText())
                    .as(service).isEqualTo("service_completed_successfully");
        }
        assertThat(SERVICES.path("settlement-logins").path("volumes").toString())
                .contains("./settlement-sink/sql:/opt/hongbao/sql");
        assertThat(SERVICES.path("settlement-migrate").path("command").toString())
                .contains("io.hongbao.settlement.MigrateCommand").contains("\"" + admin + "\"");
    }

    @Test
    void shouldTakeSecretsFromTheEnvironmentOnly() {
        SERVICES.properties().forEach(s -> s.getValue().path("environment").properties().forEach(e -> {
            if (e.getKey().matches(".*(PASSWORD|SECRET).*")) {
                assertThat(e.getValue().asText()).as("%s of %s", e.getKey(), s.getKey()).startsWith("${");
            }
        }));
    }

    private static List<String> ports(String service) {
        List<String> ports = new ArrayList<>();
        SERVICES.path(service).path("ports").forEach(p -> ports.add(p.asText()));
        return ports;
    }

    private static Set<String> names(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static JsonNode read(Path file) {
        return RepositoryFiles.readYaml(file);
    }
}
