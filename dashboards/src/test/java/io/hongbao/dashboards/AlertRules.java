package io.hongbao.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The Prometheus alert rules of {@code infra/prometheus/} and the metric names their expressions read. */
final class AlertRules {
    private static final Pattern METRIC = Pattern.compile("\\b(flink_\\w+|up)\\b");

    private AlertRules() {}

    /** {@code infra/prometheus/}, next to {@code dashboards/}. */
    static Path dir() {
        return DashboardFiles.root().getParent().resolve("infra").resolve("prometheus");
    }

    static Path rules() {
        return dir().resolve("hongbao-alerts.yml");
    }

    static Path tests() {
        return dir().resolve("hongbao-alerts.test.yml");
    }

    /** Every alerting rule by alert name. */
    static Map<String, JsonNode> alerts() {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (JsonNode group : DashboardFiles.yaml(rules()).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                out.put(rule.path("alert").asText(), rule);
            }
        }
        return out;
    }

    /** The metric names the alert expressions select. */
    static Set<String> metricNames() {
        Set<String> names = new TreeSet<>();
        for (JsonNode rule : alerts().values()) {
            Matcher m = METRIC.matcher(rule.path("expr").asText());
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }
}
