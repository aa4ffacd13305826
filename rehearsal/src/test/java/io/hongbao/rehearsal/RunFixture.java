package io.hongbao.rehearsal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * A small rehearsal run directory, as bin/rehearsal leaves it, made up in code: a two-step rate search (the second
 * not sustained), two 20 s rounds 10 s apart paced from a known origin, a TaskManager killed at the first round's
 * peak, samples every second whose lag peaks and recovers in each round, budgets that drain (round 1 to 3 fen of
 * 60,000, round 2 to 40 fen of 120,000: not within 0.01%), both rounds swept, and a passing reconciliation report.
 */
final class RunFixture {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long ORIGIN_WALL = 1_800_000_000_000L;
    static final long GALA_START = OffsetDateTime.parse("2027-02-06T20:00:00+08:00").toInstant().toEpochMilli();
    /** The first record is an out-of-window shake 5 s before the first round. */
    static final long ORIGIN_TS = GALA_START - 5_000;
    static final long ROUND1_START = ORIGIN_WALL + 5_000;
    static final long ROUND1_END = ROUND1_START + 20_000;
    static final long ROUND2_START = ROUND1_START + 30_000;
    static final long ROUND2_END = ROUND2_START + 20_000;
    static final long FAULT_AT = ROUND1_START + 3_000;

    private RunFixture() {}

    static Path write(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("calibration"));
        Files.createDirectories(dir.resolve("gala"));
        ObjectNode settings = JSON.createObjectNode().put("run", "rehearsal-fixture").put("form", "short")
                .put("faults", true).put("cores", 2).put("sustainedRate", 6000).put("pace", 1)
                .put("paceOriginTsMs", ORIGIN_TS).put("paceOriginWallMs", ORIGIN_WALL).put("checkpointIntervalMs", 5000);
        JSON.writeValue(dir.resolve("settings.json").toFile(), settings);
        Files.writeString(dir.resolve("calibration/steps.jsonl"),
                "{\"asked\":4000,\"rate\":4100,\"lagStart\":300,\"lagEnd\":400,\"checkpoints\":2,\"maxCheckpointMs\":700,\"sustained\":true}\n"
                + "{\"asked\":6000,\"rate\":6000,\"lagStart\":500,\"lagEnd\":900,\"checkpoints\":2,\"maxCheckpointMs\":900,\"sustained\":true}\n"
                + "{\"asked\":9000,\"rate\":7000,\"lagStart\":2000,\"lagEnd\":30000,\"checkpoints\":1,\"maxCheckpointMs\":4000,\"sustained\":false}\n");
        List<String> cal = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            cal.add("{\"t\":" + (ORIGIN_WALL - 60_000 + i * 1000) + ",\"jobState\":\"RUNNING\",\"inputRate\":" + (4000 + i * 300)
                    + ",\"lag\":" + (300 + i * 50) + "}");
        }
        Files.write(dir.resolve("calibration/samples.jsonl"), cal);
        Files.writeString(dir.resolve("gala/profile.yaml"), """
                name: "fixture"
                gala_start: "2027-02-06T20:00:00+08:00"
                rounds:
                - id: 1
                  name: "20:00 opening"
                  start_offset: "PT0S"
                  duration: "PT20S"
                  budget_fen: 60000
                - id: 2
                  name: "20:45"
                  start_offset: "PT30S"
                  duration: "PT20S"
                  budget_fen: 120000
                """);
        List<String> samples = new ArrayList<>();
        long checkpoint = 0;
        for (long t = ORIGIN_WALL; t <= ROUND2_END + 15_000; t += 1000) {
            ObjectNode s = JSON.createObjectNode().put("t", t);
            boolean down = t > FAULT_AT && t < FAULT_AT + 6_000; // the restart after the TaskManager kill
            s.put("jobState", down ? "RESTARTING" : "RUNNING");
            if (!down) {
                s.put("inputRate", rate(t));
                s.put("lag", lag(t));
                s.put("backPressureMsPerS", lag(t) > 5000 ? 600 : 0);
                s.put("busyMsPerS", 400);
            }
            if (t % 5000 == 0) {
                checkpoint++;
            }
            s.putObject("checkpoints").put("completed", checkpoint).put("failed", 0).put("lastId", checkpoint)
                    .put("lastDurationMs", 300 + checkpoint * 10).put("lastSizeBytes", 2_000_000 + checkpoint * 1000)
                    .put("lastAckMs", t - t % 5000);
            s.put("restarts", t > FAULT_AT ? 1 : 0);
            ArrayNode rounds = s.putArray("rounds");
            rounds.add(round(1, 60_000, t, ROUND1_START, 3, ROUND1_END + 4_000));
            rounds.add(round(2, 120_000, t, ROUND2_START, 40, ROUND2_END + 5_000));
            s.put("payouts", rounds.get(0).get("payouts").asLong() + rounds.get(1).get("payouts").asLong());
            samples.add(JSON.writeValueAsString(s));
        }
        Files.write(dir.resolve("gala/samples.jsonl"), samples);
        Files.writeString(dir.resolve("gala/events.jsonl"),
                "{\"t\":" + ORIGIN_WALL + ",\"kind\":\"phase\",\"name\":\"gala-start\",\"detail\":\"\"}\n"
                + "{\"t\":" + FAULT_AT + ",\"kind\":\"fault\",\"name\":\"kill-taskmanager\",\"detail\":\"round 1 peak\"}\n");
        JSON.writeValue(dir.resolve("gala/reconciliation.json").toFile(), reconciliation(true));
        return dir;
    }

    static ObjectNode reconciliation(boolean passed) {
        ObjectNode r = JSON.createObjectNode().put("passed", passed).put("totalViolations", passed ? 0 : 1)
                .put("pendingPreparedTransactions", 0);
        ArrayNode rounds = r.putArray("rounds");
        rounds.addObject().put("roundId", 1).put("budgetFen", 60_000).put("paidFen", 59_997).put("remainingFen", 3)
                .put("payouts", 130).put("swept", true).put("overBudget", false);
        rounds.addObject().put("roundId", 2).put("budgetFen", 120_000).put("paidFen", 119_960).put("remainingFen", 40)
                .put("payouts", 260).put("swept", true).put("overBudget", false);
        ObjectNode checks = r.putObject("checks");
        checks.putObject("OVER_BUDGET").put("rule", "a round's payouts sum to at most its budget")
                .put("violations", passed ? 0 : 1).put("status", passed ? "PASS" : "FAIL");
        checks.putObject("DUPLICATE_PAYOUT_ID").put("rule", "no payout id appears twice").put("violations", 0)
                .put("status", "PASS");
        return r;
    }

    /** A 10x burst at each round's start decaying over a few seconds, a steady rate after it, nothing between. */
    private static long rate(long t) {
        for (long start : new long[] {ROUND1_START, ROUND2_START}) {
            if (t >= start && t < start + 20_000) {
                return 1_000 + Math.round(9_000 * Math.exp(-(t - start) / 3_000.0));
            }
        }
        return 16; // ticks
    }

    /** Lag climbs during a burst and is worked off within ~8 s. */
    private static long lag(long t) {
        for (long start : new long[] {ROUND1_START, ROUND2_START}) {
            long d = t - start;
            if (d >= 0 && d < 10_000) {
                return d < 4_000 ? 5_000 * d / 1000 : Math.max(200, 20_000 - (d - 4_000) * 4);
            }
        }
        return 150;
    }

    private static ObjectNode round(int id, long budget, long t, long start, long leftAtEnd, long sweptAt) {
        ObjectNode r = JSON.createObjectNode().put("id", id).put("budgetFen", budget);
        long paid = t < start ? 0 : Math.min(budget - leftAtEnd, (budget - leftAtEnd) * (t - start) / 12_000);
        r.put("paidFen", paid).put("remainingFen", budget - paid).put("payouts", paid / 450);
        r.put("swept", t >= sweptAt);
        if (t >= sweptAt) {
            r.put("sweptAtMs", sweptAt);
        }
        return r;
    }
}
