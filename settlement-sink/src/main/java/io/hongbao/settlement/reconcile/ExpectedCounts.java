package io.hongbao.settlement.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What the traffic should amount to, from the generator's manifest ({@code expected}): distinct valid shakes
 * per round and rejected records per reason. Reconciliation compares the job's interaction and reject counts
 * with it, so a lost or double-counted shake shows up as a failed check.
 */
public record ExpectedCounts(Map<Integer, Long> shakesPerRound, Map<String, Long> rejectedPerReason) {
    private static final Pattern REASON = Pattern.compile("[A-Z][A-Z_]*");

    public ExpectedCounts {
        shakesPerRound = Map.copyOf(new TreeMap<>(shakesPerRound));
        rejectedPerReason = Map.copyOf(new TreeMap<>(rejectedPerReason));
        rejectedPerReason.keySet().forEach(r -> {
            if (!REASON.matcher(r).matches()) {
                throw new IllegalArgumentException("not a reject reason: " + r);
            }
        });
    }

    /** Reads {@code expected.rounds.<id>.distinct_events} and {@code expected.rejected} of a manifest. */
    public static ExpectedCounts fromManifest(Path manifest) throws IOException {
        JsonNode expected = new ObjectMapper().readTree(manifest.toFile()).path("expected");
        if (!expected.has("rounds") || !expected.has("rejected")) {
            throw new IOException(manifest + " is not a generator manifest: no expected.rounds / expected.rejected");
        }
        Map<Integer, Long> shakes = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : expected.get("rounds").properties()) {
            shakes.put(Integer.parseInt(e.getKey()), e.getValue().path("distinct_events").asLong());
        }
        Map<String, Long> rejected = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : expected.get("rejected").properties()) {
            rejected.put(e.getKey(), e.getValue().asLong());
        }
        return new ExpectedCounts(shakes, rejected);
    }

    /** {@code (VALUES (1, 10), (2, 20)) AS name(round_id, shakes)}, for comparing in one read-only query. */
    String shakesValues(String name) {
        StringBuilder sql = new StringBuilder("(VALUES ");
        shakesPerRound.forEach((round, n) -> sql.append('(').append(round).append(", ").append(n).append("::bigint), "));
        return close(sql, shakesPerRound.isEmpty() ? "(NULL::int, NULL::bigint)" : null) + " AS " + name
                + "(round_id, shakes)";
    }

    String rejectedValues(String name) {
        StringBuilder sql = new StringBuilder("(VALUES ");
        rejectedPerReason.forEach((reason, n) -> sql.append("('").append(reason).append("', ").append(n)
                .append("::bigint), "));
        return close(sql, rejectedPerReason.isEmpty() ? "(NULL::text, NULL::bigint)" : null) + " AS " + name
                + "(reason, records)";
    }

    private static String close(StringBuilder sql, String emptyRow) {
        if (emptyRow != null) {
            return sql.append(emptyRow).append(')').toString();
        }
        sql.setLength(sql.length() - 2);
        return sql.append(')').toString();
    }
}
