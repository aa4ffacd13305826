package io.hongbao.settlement.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

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

    /** {@code (VALUES (1, 10::bigint), (2, 20::bigint)) AS name(round_id, shakes)}, for one read-only query. */
    String shakesValues(String name) {
        return values(shakesPerRound, String::valueOf, "NULL::int", name + "(round_id, shakes)");
    }

    /** {@code (VALUES ('OVERSIZED', 3::bigint)) AS name(reason, records)}; reasons are checked to be [A-Z_]. */
    String rejectedValues(String name) {
        return values(rejectedPerReason, reason -> "'" + reason + "'", "NULL::text", name + "(reason, records)");
    }

    private static <K> String values(Map<K, Long> rows, Function<K, String> literal, String nullKey, String alias) {
        String tuples = rows.isEmpty() ? "(" + nullKey + ", NULL::bigint)"
                : rows.entrySet().stream().map(e -> "(" + literal.apply(e.getKey()) + ", " + e.getValue() + "::bigint)")
                        .collect(Collectors.joining(", "));
        return "(VALUES " + tuples + ") AS " + alias;
    }
}
