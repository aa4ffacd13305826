package io.hongbao.rehearsal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Whether one step of the rate search was sustained: over the step's second half (the first lets the rate settle)
 * the job ran throughout, the Kafka consumer lag stayed bounded (at the end at most {@value #LAG_BOUND_SECONDS} s
 * of input, and it grew by at most {@value #LAG_GROWTH_SECONDS} s of input), and every checkpoint that completed
 * in the step took no longer than the checkpoint interval, none failed. The rate is what the source read over that
 * half, per second, not what was asked for.
 */
@Command(name = "judge-step", mixinStandardHelpOptions = true,
        description = "Judge one step of the rate search from the sampler's JSON lines; prints one JSON object.")
final class StepJudge implements Callable<Integer> {
    static final double LAG_BOUND_SECONDS = 2.0;
    static final double LAG_GROWTH_SECONDS = 1.0;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--samples", required = true)
    Path samples;

    @Option(names = "--from-ms", required = true)
    long fromMs;

    @Option(names = "--to-ms", required = true)
    long toMs;

    @Option(names = "--checkpoint-interval-ms", required = true)
    long checkpointIntervalMs;

    @Override
    public Integer call() throws IOException {
        System.out.println(JSON.writeValueAsString(judge(Samples.read(samples), fromMs, toMs, checkpointIntervalMs)));
        return 0;
    }

    static ObjectNode judge(List<JsonNode> all, long fromMs, long toMs, long checkpointIntervalMs) {
        ObjectNode v = JSON.createObjectNode();
        v.put("fromMs", fromMs);
        v.put("toMs", toMs);
        long mid = fromMs + (toMs - fromMs) / 2;
        List<JsonNode> half = new ArrayList<>();
        long failedBefore = -1;
        long failedAfter = -1;
        long maxCheckpointMs = 0;
        long lastCheckpointId = -1;
        int checkpoints = 0;
        boolean runningThroughout = true;
        for (JsonNode s : all) {
            long t = s.get("t").asLong();
            if (t < fromMs || t > toMs) {
                continue;
            }
            JsonNode c = s.path("checkpoints");
            if (c.has("failed")) {
                failedBefore = failedBefore < 0 ? c.get("failed").asLong() : failedBefore;
                failedAfter = c.get("failed").asLong();
            }
            if (c.has("lastId") && c.get("lastId").asLong() != lastCheckpointId) {
                if (lastCheckpointId >= 0) { // the one already done when the step began is not the step's
                    maxCheckpointMs = Math.max(maxCheckpointMs, c.get("lastDurationMs").asLong());
                    checkpoints++;
                }
                lastCheckpointId = c.get("lastId").asLong();
            }
            if (t >= mid) {
                half.add(s);
                runningThroughout &= "RUNNING".equals(s.path("jobState").asText());
            }
        }
        // The records the source read over the half, per second: exact whatever the quota's throttling does to the
        // second-by-second rate (it lets the producer through in bursts); the mean of the per-second rates if the
        // counter is missing at either end.
        List<JsonNode> counted = half.stream().filter(s -> s.has("sourceRecords")).toList();
        double rate;
        if (counted.size() >= 2 && counted.get(counted.size() - 1).get("t").asLong() > counted.get(0).get("t").asLong()) {
            JsonNode first = counted.get(0);
            JsonNode last = counted.get(counted.size() - 1);
            rate = (last.get("sourceRecords").asLong() - first.get("sourceRecords").asLong()) * 1000.0
                    / (last.get("t").asLong() - first.get("t").asLong());
        } else {
            rate = half.stream().filter(s -> s.has("inputRate")).mapToLong(s -> s.get("inputRate").asLong())
                    .average().orElse(0);
        }
        List<JsonNode> lags = half.stream().filter(s -> s.has("lag")).toList();
        long lagStart = lags.isEmpty() ? -1 : lags.get(0).get("lag").asLong();
        long lagEnd = lags.isEmpty() ? -1 : lags.subList(Math.max(0, lags.size() - 3), lags.size()).stream()
                .mapToLong(s -> s.get("lag").asLong()).max().orElse(-1);
        v.put("rate", Math.round(rate));
        v.put("lagStart", lagStart);
        v.put("lagEnd", lagEnd);
        v.put("checkpoints", checkpoints);
        v.put("maxCheckpointMs", maxCheckpointMs);
        v.put("failedCheckpoints", failedAfter < 0 ? 0 : failedAfter - failedBefore);
        String why = null;
        if (half.isEmpty() || rate <= 0) {
            why = "no input measured";
        } else if (!runningThroughout) {
            why = "the job did not run throughout";
        } else if (lags.isEmpty()) {
            why = "no consumer lag measured";
        } else if (lagEnd > LAG_BOUND_SECONDS * rate) {
            why = String.format("lag %,d records at the end, above %.0f s of input", lagEnd, LAG_BOUND_SECONDS);
        } else if (lagEnd - lagStart > LAG_GROWTH_SECONDS * rate) {
            why = String.format("lag grew by %,d records, above %.0f s of input", lagEnd - lagStart, LAG_GROWTH_SECONDS);
        } else if (failedAfter > failedBefore) {
            why = (failedAfter - failedBefore) + " checkpoint(s) failed";
        } else if (maxCheckpointMs > checkpointIntervalMs) {
            why = String.format("a checkpoint took %,d ms, above the %,d ms interval", maxCheckpointMs, checkpointIntervalMs);
        } else if (checkpoints == 0) {
            why = "no checkpoint completed in the step";
        }
        v.put("sustained", why == null);
        v.put("why", why == null ? "lag bounded, checkpoints within the interval" : why);
        return v;
    }
}
