package io.hongbao.rehearsal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The night's report from a rehearsal's run directory: {@code report.json} (every figure and the verdict) and
 * {@code report.html} (the same, with charts; self-contained, ECharts inlined). Reads what bin/rehearsal left:
 * {@code settings.json}, {@code calibration/samples.jsonl} and {@code calibration/steps.jsonl}, {@code
 * gala/samples.jsonl}, {@code gala/events.jsonl}, {@code gala/profile.yaml}, {@code gala/reconciliation.json}
 * (the settlement CLI's {@code --report}: the money verdict is the reconciliation views', not re-derived here).
 */
@Command(name = "report", mixinStandardHelpOptions = true, description = "Write report.json and report.html for a run.")
final class ReportCommand implements Callable<Integer> {
    /** A round is drained when what is left is at most this share of its budget. */
    static final double DRAINED_SHARE = 1e-4;
    /** Lag counts as recovered once back at or under this many seconds of the night's sustained rate. */
    static final double RECOVERED_LAG_SECONDS = 1.0;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Option(names = "--run-dir", required = true, description = "The rehearsal's run directory.")
    Path runDir;

    @Override
    public Integer call() throws IOException {
        ObjectNode report = build(runDir);
        Files.writeString(runDir.resolve("report.json"), JSON.writeValueAsString(report), StandardCharsets.UTF_8);
        Files.writeString(runDir.resolve("report.html"), ReportHtml.render(report), StandardCharsets.UTF_8);
        System.out.print(verdictText(report));
        System.out.println("report: " + runDir.resolve("report.html") + " and report.json");
        return report.path("verdict").path("passed").asBoolean() ? 0 : 1;
    }

    static ObjectNode build(Path dir) throws IOException {
        ObjectNode settings = (ObjectNode) JSON.readTree(dir.resolve("settings.json").toFile());
        ObjectNode report = JSON.createObjectNode();
        report.set("settings", settings);
        int cores = settings.path("cores").asInt(1);
        List<JsonNode> steps = Samples.read(dir.resolve("calibration/steps.jsonl"));
        ObjectNode cal = report.putObject("calibration");
        ArrayNode stepsOut = cal.putArray("steps");
        long sustained = settings.path("sustainedRate").asLong(0);
        for (JsonNode s : steps) {
            stepsOut.add(s);
        }
        cal.put("sustainedRate", sustained);
        cal.put("perCore", Math.round(sustained / (double) cores));
        cal.set("samples", series(Samples.read(dir.resolve("calibration/samples.jsonl"))));

        List<JsonNode> samples = Samples.read(dir.resolve("gala/samples.jsonl"));
        List<JsonNode> events = Samples.read(dir.resolve("gala/events.jsonl"));
        ObjectNode gala = report.putObject("gala");
        gala.set("series", series(samples));
        ArrayNode eventsOut = gala.putArray("events");
        events.forEach(eventsOut::add);

        JsonNode profile = new ObjectMapper(new YAMLFactory()).readTree(dir.resolve("gala/profile.yaml").toFile());
        long galaStartMs = OffsetDateTime.parse(profile.get("gala_start").asText()).toInstant().toEpochMilli();
        long originTs = settings.path("paceOriginTsMs").asLong();
        long originWall = settings.path("paceOriginWallMs").asLong();
        double pace = settings.path("pace").asDouble(1);
        JsonNode reconciliation = readOrEmpty(dir.resolve("gala/reconciliation.json"));
        double recoveredLag = Math.max(1000, RECOVERED_LAG_SECONDS * sustained);
        ArrayNode rounds = gala.putArray("rounds");
        long peakLag = 0;
        for (JsonNode s : samples) {
            peakLag = Math.max(peakLag, s.path("lag").asLong(0));
        }
        for (JsonNode r : profile.get("rounds")) {
            int id = r.get("id").asInt();
            long startTs = galaStartMs + Duration.parse(r.get("start_offset").asText()).toMillis();
            long endTs = startTs + Duration.parse(r.get("duration").asText()).toMillis();
            ObjectNode out = rounds.addObject();
            out.put("id", id);
            out.put("name", r.path("name").asText());
            out.put("startMs", originWall + Math.round((startTs - originTs) / pace));
            out.put("endMs", originWall + Math.round((endTs - originTs) / pace));
            roundFigures(out, r, samples, reconciliation, recoveredLag);
        }
        gala.put("peakLag", peakLag);
        gala.put("peakInputRate", samples.stream().mapToLong(s -> s.path("inputRate").asLong(0)).max().orElse(0));
        gala.put("restarts", samples.stream().mapToLong(s -> s.path("restarts").asLong(0)).max().orElse(0));
        gala.put("maxCheckpointMs", samples.stream().mapToLong(s -> s.path("checkpoints").path("lastDurationMs").asLong(0)).max().orElse(0));
        ArrayNode faults = gala.putArray("faults");
        for (JsonNode e : events) {
            if ("fault".equals(e.path("kind").asText())) {
                faults.add(faultFigures(e, samples, recoveredLag));
            }
        }
        report.set("reconciliation", reconciliation);
        report.set("verdict", verdict(report, reconciliation));
        return report;
    }

    private static void roundFigures(ObjectNode out, JsonNode profileRound, List<JsonNode> samples,
            JsonNode reconciliation, double recoveredLag) {
        int id = out.get("id").asInt();
        long start = out.get("startMs").asLong();
        long end = out.get("endMs").asLong();
        long budget = profileRound.get("budget_fen").asLong();
        JsonNode rec = null;
        for (JsonNode r : reconciliation.path("rounds")) {
            if (r.path("roundId").asInt() == id) {
                rec = r;
            }
        }
        long paid = rec != null ? rec.path("paidFen").asLong() : -1;
        long remaining = rec != null ? rec.path("remainingFen").asLong(budget - paid) : -1;
        boolean swept = rec != null && rec.path("swept").asBoolean();
        out.put("budgetFen", budget);
        out.put("paidFen", paid);
        out.put("remainingFen", remaining);
        out.put("swept", swept);
        long bound = (long) Math.floor(budget * DRAINED_SHARE);
        out.put("drainBoundFen", bound);
        boolean drained = rec != null && remaining >= 0 && remaining <= bound;
        out.put("drained", drained);
        if (rec == null) {
            out.put("why", "the round is missing from the reconciliation report");
        } else if (!swept) {
            out.put("why", "not swept: the round never closed in event time");
        } else if (!drained) {
            out.put("why", String.format("%,d fen left, above 0.01%% of the budget (%,d fen): the crowd's winners "
                    + "did not ask for all of it (per-user caps, tier caps, or too few winners waiting for the "
                    + "sweep)", remaining, bound));
        } else {
            out.put("why", String.format("%,d fen left of %,d (%.5f%%)", remaining, budget, 100.0 * remaining / budget));
        }
        Long sweptAt = null;
        long peakLag = 0;
        long peakAt = start;
        long peakRate = 0;
        Long drainedAt = null;
        for (JsonNode s : samples) {
            long t = s.get("t").asLong();
            for (JsonNode r : s.path("rounds")) {
                if (r.path("id").asInt() == id && r.has("sweptAtMs") && sweptAt == null) {
                    sweptAt = r.get("sweptAtMs").asLong();
                }
                if (r.path("id").asInt() == id && drainedAt == null && r.path("payouts").asLong() > 0
                        && r.path("remainingFen").asLong() <= bound) {
                    drainedAt = t;
                }
            }
            if (t >= start && t < end) {
                if (s.path("lag").asLong(0) > peakLag) {
                    peakLag = s.get("lag").asLong();
                    peakAt = t;
                }
                peakRate = Math.max(peakRate, s.path("inputRate").asLong(0));
            }
        }
        Long recoveredAt = null;
        for (JsonNode s : samples) {
            long t = s.get("t").asLong();
            if (t > peakAt && s.has("lag") && s.get("lag").asLong() <= recoveredLag) {
                recoveredAt = t;
                break;
            }
        }
        out.put("peakInputRate", peakRate);
        out.put("peakLag", peakLag);
        out.put("peakLagAtS", (peakAt - start) / 1000.0);
        if (recoveredAt != null) {
            out.put("lagRecoveredAfterS", (recoveredAt - peakAt) / 1000.0);
            out.put("lagRecoveredBeforeEnd", recoveredAt <= end);
        } else {
            out.putNull("lagRecoveredAfterS");
            out.put("lagRecoveredBeforeEnd", false);
        }
        if (sweptAt != null) {
            out.put("sweptAtMs", sweptAt);
            out.put("sweptAfterEndS", (sweptAt - end) / 1000.0);
        }
        if (drainedAt != null) {
            out.put("drainedAfterStartS", (drainedAt - start) / 1000.0);
        }
    }

    private static ObjectNode faultFigures(JsonNode fault, List<JsonNode> samples, double recoveredLag) {
        ObjectNode out = fault.deepCopy();
        long t0 = fault.get("t").asLong();
        Long disruptedAt = null;
        Long runningAt = null;
        Long recoveredAt = null;
        long peakLag = 0;
        long restartsBefore = 0;
        long jobsBefore = 0;
        long undisturbedAt = t0; // the last sample that did not show the fault yet
        for (JsonNode s : samples) {
            long t = s.get("t").asLong();
            if (t <= t0) {
                restartsBefore = s.path("restarts").asLong(restartsBefore);
                jobsBefore = s.path("jobsSeen").asLong(jobsBefore);
                continue;
            }
            peakLag = recoveredAt == null ? Math.max(peakLag, s.path("lag").asLong(0)) : peakLag;
            boolean running = "RUNNING".equals(s.path("jobState").asText());
            // The fault reached the job: it was seen down (restarting, failed over, unreadable, none running), or it
            // restarted or was replaced between two samples. A kill that hits nothing the job runs on never counts
            // as recovered: it tested nothing (the first full rehearsal's TaskManager kill hit an idle one).
            if (disruptedAt == null && (!running || s.path("restarts").asLong(restartsBefore) > restartsBefore
                    || s.path("jobsSeen").asLong(jobsBefore) > jobsBefore)) {
                disruptedAt = t;
            }
            if (disruptedAt == null) {
                undisturbedAt = t;
            }
            // Running again: a checkpoint completed after the last sample that did not show the fault. Not merely
            // after the fault: a checkpoint whose dead TaskManager had acknowledged before it died completes after
            // the kill, before the restart (the first full run with faults measured 4.6 s so; region failover
            // keeps the job RUNNING throughout, only numRestarts tells). Not also input read: when the outage
            // outlasts the traffic, the job resumes with all of it in Kafka and may read it before its first
            // checkpoint.
            if (disruptedAt != null && runningAt == null && running
                    && s.path("checkpoints").path("lastAckMs").asLong() > undisturbedAt) {
                runningAt = t;
            }
            if (runningAt != null && recoveredAt == null && s.has("lag") && s.get("lag").asLong() <= recoveredLag) {
                recoveredAt = t;
            }
        }
        if (runningAt != null) {
            out.put("rtoS", (runningAt - t0) / 1000.0);
        }
        out.put("disrupted", disruptedAt != null);
        if (recoveredAt != null) {
            out.put("lagRecoveredAfterS", (recoveredAt - t0) / 1000.0);
        }
        out.put("peakLagAfter", peakLag);
        return out;
    }

    private static ObjectNode verdict(ObjectNode report, JsonNode reconciliation) {
        ObjectNode v = JSON.createObjectNode();
        ArrayNode items = v.putArray("items");
        boolean passed = true;
        long sustained = report.path("calibration").path("sustainedRate").asLong();
        passed &= item(items, "sustained rate", sustained > 0, String.format("%,d records/s (%,d per core of %d)",
                sustained, report.path("calibration").path("perCore").asLong(),
                report.path("settings").path("cores").asInt()));
        for (JsonNode r : report.path("gala").path("rounds")) {
            // A swept round left with more than 0.01% is reported with its reason, not failed: what is left depends
            // on how many winners the crowd brought and their caps (the rate, and so the traffic, differs from run
            // to run), not on a fault of the job; an unswept or unreconciled round fails below and here.
            boolean drained = r.path("drained").asBoolean();
            passed &= item(items, "round " + r.get("id").asInt() + " drained",
                    drained ? "PASS" : r.path("swept").asBoolean() ? "WARN" : "FAIL", r.path("why").asText());
            passed &= item(items, "round " + r.get("id").asInt() + " swept", r.path("swept").asBoolean()
                    && r.has("sweptAfterEndS"), r.has("sweptAfterEndS")
                    ? String.format("%.1f s after the round's end", r.get("sweptAfterEndS").asDouble()) : "no sweep seen");
            boolean recovered = !r.path("lagRecoveredAfterS").isNull() && r.has("lagRecoveredAfterS");
            passed &= item(items, "round " + r.get("id").asInt() + " lag recovered", recovered, recovered
                    ? String.format("peak %,d records %.0f s in, back under the bound %.0f s later",
                            r.get("peakLag").asLong(), r.get("peakLagAtS").asDouble(), r.get("lagRecoveredAfterS").asDouble())
                    : String.format("peak %,d records, never back under the bound", r.path("peakLag").asLong()));
        }
        boolean reconciled = reconciliation.path("passed").asBoolean(false);
        passed &= item(items, "reconciliation", reconciled, reconciled ? "RECONCILIATION PASSED (settlement CLI)"
                : reconciliation.isEmpty() ? "no reconciliation report" : "RECONCILIATION FAILED");
        for (var it = reconciliation.path("checks").fields(); it.hasNext(); ) {
            var e = it.next();
            long violations = e.getValue().path("violations").asLong(-1);
            passed &= item(items, e.getKey(), violations == 0, violations + " violations: "
                    + e.getValue().path("rule").asText());
        }
        long pending = reconciliation.path("pendingPreparedTransactions").asLong(-1);
        passed &= item(items, "prepared transactions left", pending == 0, String.valueOf(pending));
        for (JsonNode f : report.path("gala").path("faults")) {
            passed &= item(items, "fault " + f.path("name").asText(), f.has("rtoS"), f.has("rtoS")
                    ? String.format("running with a new checkpoint %.1f s later; lag back under the bound after %s s",
                            f.get("rtoS").asDouble(), f.has("lagRecoveredAfterS") ? f.get("lagRecoveredAfterS").asText() : "never")
                    : f.path("disrupted").asBoolean()
                            ? "the job never ran again with a new checkpoint"
                            : "the job never went down nor restarted: the fault hit nothing it runs on");
        }
        v.put("passed", passed);
        return v;
    }

    private static boolean item(ArrayNode items, String name, boolean pass, String detail) {
        return item(items, name, pass ? "PASS" : "FAIL", detail);
    }

    /** PASS, WARN (reported, the night still passes) or FAIL; true unless FAIL. */
    private static boolean item(ArrayNode items, String name, String status, String detail) {
        ObjectNode i = items.addObject();
        i.put("name", name);
        i.put("status", status);
        i.put("detail", detail);
        return !"FAIL".equals(status);
    }

    /**
     * The charts' data: one array per figure, [t, value] pairs; [t, null] where a sample could not read the figure
     * (the job restarting, the JobManager down), so the chart shows the gap instead of a line across it.
     */
    static ObjectNode series(List<JsonNode> samples) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode rate = out.putArray("inputRate");
        ArrayNode lag = out.putArray("lag");
        ArrayNode bp = out.putArray("backPressureMsPerS");
        ArrayNode busy = out.putArray("busyMsPerS");
        ArrayNode cpDuration = out.putArray("checkpointMs");
        ArrayNode cpSize = out.putArray("checkpointBytes");
        ArrayNode payoutRate = out.putArray("payoutsPerS");
        ArrayNode restarts = out.putArray("restarts");
        ObjectNode remaining = out.putObject("remainingFen");
        // Where each sampled figure came from, samples per source: the input rate and the lag from Prometheus
        // where it answered (Sampler), the rest from Flink's REST API and the settlement database.
        ObjectNode sources = out.putObject("sources");
        long lastCp = -1;
        long lastPayouts = -1;
        long lastPayoutsAt = 0;
        for (JsonNode s : samples) {
            long t = s.get("t").asLong();
            pairOrGap(rate, t, s.get("inputRate"));
            pairOrGap(lag, t, s.get("lag"));
            pairOrGap(bp, t, s.get("backPressureMsPerS"));
            pairOrGap(busy, t, s.get("busyMsPerS"));
            pair(restarts, t, s.get("restarts"));
            for (String figure : List.of("inputRate", "lag", "backPressureMsPerS", "busyMsPerS", "restarts")) {
                if (s.has(figure)) {
                    String from = s.path("sources").path(figure).asText("rest");
                    ObjectNode counts = sources.has(figure) ? (ObjectNode) sources.get(figure) : sources.putObject(figure);
                    counts.put(from, counts.path(from).asLong() + 1);
                }
            }
            if (s.has("payouts")) {
                ObjectNode counts = sources.has("payouts") ? (ObjectNode) sources.get("payouts") : sources.putObject("payouts");
                counts.put("database", counts.path("database").asLong() + 1);
            }
            JsonNode c = s.path("checkpoints");
            if (c.has("lastId") && c.get("lastId").asLong() != lastCp) {
                lastCp = c.get("lastId").asLong();
                long at = c.path("lastAckMs").asLong(t);
                pair(cpDuration, at, c.get("lastDurationMs"));
                pair(cpSize, at, c.get("lastSizeBytes"));
            }
            if (s.has("payouts")) {
                long p = s.get("payouts").asLong();
                if (lastPayouts >= 0 && t > lastPayoutsAt && p >= lastPayouts) {
                    payoutRate.addArray().add(t).add(Math.round((p - lastPayouts) * 1000.0 / (t - lastPayoutsAt)));
                }
                lastPayouts = p;
                lastPayoutsAt = t;
            }
            for (JsonNode r : s.path("rounds")) {
                ArrayNode line = remaining.has(r.get("id").asText()) ? (ArrayNode) remaining.get(r.get("id").asText())
                        : remaining.putArray(r.get("id").asText());
                line.addArray().add(t).add(r.path("remainingFen").asLong());
            }
        }
        return out;
    }

    private static void pair(ArrayNode into, long t, JsonNode value) {
        if (value != null && value.isNumber()) {
            into.addArray().add(t).add(value.asLong());
        }
    }

    private static void pairOrGap(ArrayNode into, long t, JsonNode value) {
        if (value != null && value.isNumber()) {
            into.addArray().add(t).add(value.asLong());
        } else {
            into.addArray().add(t).addNull();
        }
    }

    private static JsonNode readOrEmpty(Path file) throws IOException {
        return Files.exists(file) && Files.size(file) > 0 ? JSON.readTree(file.toFile()) : JSON.createObjectNode();
    }

    static String verdictText(JsonNode report) {
        StringBuilder b = new StringBuilder("\nVERDICT\n");
        for (JsonNode i : report.path("verdict").path("items")) {
            b.append(String.format("  %-4s  %-34s %s%n", i.get("status").asText(), i.get("name").asText(),
                    i.get("detail").asText()));
        }
        b.append(report.path("verdict").path("passed").asBoolean() ? "REHEARSAL PASSED\n" : "REHEARSAL FAILED\n");
        return b.toString();
    }
}
