package io.hongbao.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The files under {@code dashboards/}: provisioning YAML and the dashboard JSON, parsed with Jackson. */
final class DashboardFiles {
    /** Where the dashboard provider reads the JSON inside Grafana; README says to mount {@code json/} there. */
    static final String GRAFANA_DASHBOARDS_DIR = "/var/lib/grafana/dashboards/hongbao";
    static final String POSTGRES_UID = "hongbao-postgres";
    static final String PROMETHEUS_UID = "hongbao-prometheus";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private DashboardFiles() {}

    /** The {@code dashboards/} folder, found from any working directory inside the repository. */
    static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("dashboards").resolve("provisioning");
            if (Files.isDirectory(candidate)) {
                return candidate.getParent();
            }
            if (Files.isDirectory(dir.resolve("provisioning")) && Files.isDirectory(dir.resolve("json"))) {
                return dir;
            }
        }
        throw new IllegalStateException("dashboards/ not found above " + Path.of("").toAbsolutePath());
    }

    static Path jsonDir() {
        return root().resolve("json");
    }

    static JsonNode datasourceProvisioning() {
        return yaml(root().resolve("provisioning/datasources/hongbao.yaml"));
    }

    static JsonNode dashboardProvisioning() {
        return yaml(root().resolve("provisioning/dashboards/hongbao.yaml"));
    }

    static List<Dashboard> dashboards() {
        try (Stream<Path> files = Files.list(jsonDir())) {
            List<Dashboard> out = new ArrayList<>();
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                out.add(Dashboard.parse(file, JSON.readTree(file.toFile())));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Dashboard dashboard(String fileName) {
        return dashboards().stream().filter(d -> d.file().getFileName().toString().equals(fileName)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no dashboard " + fileName));
    }

    static JsonNode yaml(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
