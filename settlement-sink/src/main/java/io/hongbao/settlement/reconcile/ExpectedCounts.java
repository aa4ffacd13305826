package io.hongbao.settlement.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the traffic should amount to, from the generator's manifest ({@code expected}): distinct valid shakes
 * per round and rejected records per reason. Reconciliation compares the job's interaction and reject counts
 * with it, so a lost or double-counted shake shows up as a failed check.
 */
public record ExpectedCounts(Map<Integer, Long> shakesPerRound, Map<String, Long> rejectedPerReason) {

    public ExpectedCounts {
        shakesPerRound = Map.copyOf(shakesPerRound);
        rejectedPerReason = Map.copyOf(rejectedPerReason);
    }

    /** Reads {@code expected.rounds.<id>.distinct_events} and {@code expected.rejected} of a manifest. */
    public static ExpectedCounts fromManifest(Path manifest) throws IOException {
        JsonNode expected = new ObjectMapper().readTree(manifest.toFile()).path("expected");
        if (!expected.has("rounds") || !expected.has("rejected")) {
            throw new IOException(manifest + " is not a generator manifest: no expected.rounds / expected.rejected");
        }
        Map<Integer, Long> shakes = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : expected.get("rounds").properties()) {
            shakes.put(Integer.parseInt(e.getKey()), count(manifest, e.getValue().path("distinct_events"),
                    "expected.rounds." + e.getKey() + ".distinct_events"));
        }
        Map<String, Long> rejected = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : expected.get("rejected").properties()) {
            rejected.put(e.getKey(), count(manifest, e.getValue(), "expected.rejected." + e.getKey()));
        }
        return new ExpectedCounts(shakes, rejected);
    }

    /** A figure the manifest must have: a missing one would otherwise read as 0 and could pass a check. */
    private static long count(Path manifest, JsonNode value, String what) throws IOException {
        if (!value.isIntegralNumber() || value.asLong() < 0) {
            throw new IOException(manifest + ": " + what + " is not a count: " + value);
        }
        return value.asLong();
    }
}
