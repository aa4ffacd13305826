package io.hongbao.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One Grafana dashboard JSON, reduced to what the tests check: panels, their queries, template variables. */
record Dashboard(Path file, String uid, String title, JsonNode json, List<Panel> panels, List<Variable> variables) {

    /** A panel that shows data (rows are layout only and are left out). */
    record Panel(int id, String title, String type, String datasourceUid, JsonNode json, List<Target> targets) {
        /** Column names the panel's config refers to: field overrides by name, reduce/xField options. */
        List<String> referencedFields() {
            List<String> names = new ArrayList<>();
            for (JsonNode o : json.path("fieldConfig").path("overrides")) {
                if ("byName".equals(o.path("matcher").path("id").asText())) {
                    names.add(o.path("matcher").path("options").asText());
                }
            }
            String fields = json.path("options").path("reduceOptions").path("fields").asText("");
            if (fields.matches("/\\^[A-Za-z0-9_]+\\$/")) {
                names.add(fields.substring(2, fields.length() - 2));
            }
            String xField = json.path("options").path("xField").asText("");
            if (!xField.isEmpty()) {
                names.add(xField);
            }
            return names;
        }

        String describe() {
            return "panel " + id + " \"" + title + "\"";
        }
    }

    /** One query of a panel: SQL ({@code rawSql}, {@code format}) or PromQL ({@code expr}, {@code legendFormat}). */
    record Target(String refId, String datasourceUid, String format, String rawSql, String expr, String legendFormat) {
        boolean isSql() {
            return DashboardFiles.POSTGRES_UID.equals(datasourceUid);
        }

        boolean isPromQl() {
            return DashboardFiles.PROMETHEUS_UID.equals(datasourceUid);
        }

        /** The labels the legend shows ({@code {{round}}} names {@code round}): each series must carry them. */
        List<String> legendLabels() {
            List<String> labels = new ArrayList<>();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{\\{\\s*(\\w+)\\s*}}").matcher(legendFormat);
            while (m.find()) {
                labels.add(m.group(1));
            }
            return labels;
        }
    }

    /** A template variable; {@code query} is SQL for the PostgreSQL data source. */
    record Variable(String name, String type, String datasourceUid, String query, boolean multi, boolean includeAll,
            String allValue) {
        boolean isSql() {
            return DashboardFiles.POSTGRES_UID.equals(datasourceUid);
        }

        boolean isPromQl() {
            return DashboardFiles.PROMETHEUS_UID.equals(datasourceUid);
        }
    }

    static Dashboard parse(Path file, JsonNode json) {
        List<Panel> panels = new ArrayList<>();
        collectPanels(json.path("panels"), panels);
        List<Variable> variables = new ArrayList<>();
        for (JsonNode v : json.path("templating").path("list")) {
            variables.add(new Variable(v.path("name").asText(), v.path("type").asText(),
                    v.path("datasource").path("uid").asText(null), v.path("query").asText(null),
                    v.path("multi").asBoolean(false), v.path("includeAll").asBoolean(false),
                    v.path("allValue").asText(null)));
        }
        return new Dashboard(file, json.path("uid").asText(null), json.path("title").asText(null), json,
                List.copyOf(panels), List.copyOf(variables));
    }

    private static void collectPanels(JsonNode nodes, List<Panel> out) {
        for (JsonNode p : nodes) {
            if ("row".equals(p.path("type").asText())) {
                collectPanels(p.path("panels"), out);
                continue;
            }
            List<Target> targets = new ArrayList<>();
            for (JsonNode t : p.path("targets")) {
                JsonNode ds = t.has("datasource") ? t.path("datasource") : p.path("datasource");
                targets.add(new Target(t.path("refId").asText(null), ds.path("uid").asText(null),
                        t.path("format").asText(null), t.path("rawSql").asText(null), t.path("expr").asText(null),
                        t.path("legendFormat").asText("")));
            }
            out.add(new Panel(p.path("id").asInt(), p.path("title").asText(null), p.path("type").asText(null),
                    p.path("datasource").path("uid").asText(null), p, List.copyOf(targets)));
        }
    }

    List<Target> sqlTargets() {
        return panels.stream().flatMap(p -> p.targets().stream()).filter(Target::isSql).toList();
    }

    List<Target> promQlTargets() {
        return panels.stream().flatMap(p -> p.targets().stream()).filter(Target::isPromQl).toList();
    }
}
