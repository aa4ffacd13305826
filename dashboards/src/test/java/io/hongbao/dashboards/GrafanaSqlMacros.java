package io.hongbao.dashboards;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Expands Grafana's PostgreSQL macros the way Grafana's data source does before it sends a panel's SQL ("Macros"
 * in Grafana's PostgreSQL data source documentation; the server side is grafana/grafana
 * pkg/tsdb/grafana-postgresql-datasource/macros.go), and the dashboard's template variables the way Grafana
 * formats them for SQL data sources (values single-quoted, comma-separated). TimescaleDB off, as provisioned;
 * an unknown macro fails rather than passing through.
 */
final class GrafanaSqlMacros {
    /** {@code $__name(args)}: Grafana's own pattern, arguments never contain a closing parenthesis. */
    private static final Pattern MACRO = Pattern.compile("\\$(__[_a-zA-Z0-9]+)\\(([^)]*)\\)");

    /** The dashboard's time range, as Grafana has it: milliseconds, UTC. */
    record TimeRange(Instant from, Instant to) {
        TimeRange {
            from = from.truncatedTo(ChronoUnit.MILLIS);
            to = to.truncatedTo(ChronoUnit.MILLIS);
            if (to.isBefore(from)) {
                throw new IllegalArgumentException("time range ends before it starts: " + from + " .. " + to);
            }
        }
    }

    private GrafanaSqlMacros() {}

    static String expand(String sql, TimeRange range, Map<String, List<String>> variables) {
        return expandMacros(substituteVariables(sql, variables), range);
    }

    /** {@code $name} and {@code ${name}} become {@code 'v1','v2'} (every value: what "All" sends). */
    static String substituteVariables(String sql, Map<String, List<String>> variables) {
        String out = sql;
        for (Map.Entry<String, List<String>> v : variables.entrySet()) {
            String quoted = String.join(",", v.getValue().stream().map(GrafanaSqlMacros::quote).toList());
            out = out.replace("${" + v.getKey() + "}", quoted)
                    .replaceAll("\\$" + Pattern.quote(v.getKey()) + "(?![A-Za-z0-9_])", Matcher.quoteReplacement(quoted));
        }
        return out;
    }

    static String expandMacros(String sql, TimeRange range) {
        Matcher m = MACRO.matcher(sql);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            List<String> args = m.group(2).isBlank() ? List.of()
                    : Arrays.stream(m.group(2).split(",")).map(String::trim).toList();
            String name = m.group(1);
            // Grafana keeps pre-5.3 dashboards working: $__timeGroup(...) followed by a comma gets AS "time".
            if (name.equals("__timeGroup") && m.end() < sql.length() && sql.charAt(m.end()) == ',') {
                name = "__timeGroupAlias";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(macro(name, args, range)));
        }
        m.appendTail(out);
        String expanded = out.toString();
        if (expanded.contains("$__")) {
            throw new IllegalArgumentException("unexpanded Grafana macro or variable left in: " + expanded);
        }
        return expanded;
    }

    private static String macro(String name, List<String> args, TimeRange range) {
        return switch (name) {
            case "__time" -> one(name, args) + " AS \"time\"";
            case "__timeEpoch" -> "extract(epoch from " + one(name, args) + ") as \"time\"";
            case "__timeFilter" -> one(name, args) + " BETWEEN " + literal(range.from()) + " AND " + literal(range.to());
            case "__timeFrom" -> none(name, args, literal(range.from()));
            case "__timeTo" -> none(name, args, literal(range.to()));
            case "__timeGroup" -> timeGroup(name, args);
            case "__timeGroupAlias" -> timeGroup(name, args) + " AS \"time\"";
            case "__unixEpochFilter" -> one(name, args) + " >= " + range.from().getEpochSecond() + " AND "
                    + args.get(0) + " <= " + range.to().getEpochSecond();
            default -> throw new IllegalArgumentException("macro $" + name + " is not supported by these tests");
        };
    }

    /** {@code floor(extract(epoch from c)/s)*s}; a third argument (fill) only changes Grafana's post-processing. */
    private static String timeGroup(String name, List<String> args) {
        if (args.size() < 2) {
            throw new IllegalArgumentException("$" + name + " needs a column and an interval: " + args);
        }
        long seconds = intervalSeconds(args.get(1).replaceAll("^['\"]|['\"]$", ""));
        return "floor(extract(epoch from " + args.get(0) + ")/" + seconds + ")*" + seconds;
    }

    /** Grafana interval syntax for these macros: a number and one of s, m, h, d (e.g. {@code 1m}, {@code 30s}). */
    static long intervalSeconds(String interval) {
        Matcher m = Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(interval);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a Grafana interval: " + interval);
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
        if (d.getSeconds() < 1) {
            throw new IllegalArgumentException("interval below one second: " + interval);
        }
        return d.getSeconds();
    }

    /** Go's RFC3339Nano, as Grafana formats the range: UTC, fraction without trailing zeros. */
    private static String literal(Instant t) {
        String text = t.toString();
        if (text.contains(".")) {
            text = text.replaceAll("0+Z$", "Z").replace(".Z", "Z");
        }
        return "'" + text + "'";
    }

    private static String quote(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private static String one(String name, List<String> args) {
        if (args.size() != 1) {
            throw new IllegalArgumentException("$" + name + " takes one column: " + args);
        }
        return args.get(0);
    }

    private static String none(String name, List<String> args, String value) {
        if (!args.isEmpty()) {
            throw new IllegalArgumentException("$" + name + "() takes no argument: " + args);
        }
        return value;
    }
}
