package io.hongbao.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportCommandTest {
    @TempDir
    Path dir;

    @Test
    void shouldJudgeEachRoundsDrainSweepAndLagAndEachFaultsRecovery() throws Exception {
        JsonNode report = ReportCommand.build(RunFixture.write(dir));

        assertThat(report.at("/calibration/sustainedRate").asLong()).isEqualTo(6000);
        assertThat(report.at("/calibration/perCore").asLong()).isEqualTo(3000);
        JsonNode r1 = report.at("/gala/rounds/0");
        JsonNode r2 = report.at("/gala/rounds/1");
        assertThat(r1.get("startMs").asLong()).as("round 1 in wall time, from the pace's origin").isEqualTo(RunFixture.ROUND1_START);
        assertThat(r2.get("endMs").asLong()).isEqualTo(RunFixture.ROUND2_END);
        assertThat(r1.get("drained").asBoolean()).as("3 fen of 60,000 left: within 0.01%% (6 fen)").isTrue();
        assertThat(r2.get("drained").asBoolean()).as("40 fen of 120,000 left: above 0.01%% (12 fen)").isFalse();
        assertThat(r2.get("why").asText()).contains("40 fen left").contains("12 fen");
        assertThat(r1.get("sweptAfterEndS").asDouble()).isEqualTo(4.0);
        assertThat(r2.get("sweptAfterEndS").asDouble()).isEqualTo(5.0);
        assertThat(r2.get("peakLag").asLong()).as("the burst's lag, 4 s in").isEqualTo(20_000);
        assertThat(r2.get("peakLagAtS").asDouble()).isEqualTo(4.0);
        assertThat(r2.get("lagRecoveredAfterS").asDouble()).as("back under 1 s of the sustained rate (6,000)").isEqualTo(4.0);
        assertThat(r1.get("peakLag").asLong()).as("round 1's lag unread while the job restarted").isEqualTo(15_000);

        JsonNode fault = report.at("/gala/faults/0");
        assertThat(fault.get("name").asText()).isEqualTo("kill-taskmanager");
        assertThat(fault.get("rtoS").asDouble()).as("running again with a checkpoint after the fault").isEqualTo(6.0);

        Map<String, String> verdict = new HashMap<>();
        report.at("/verdict/items").forEach(i -> verdict.put(i.get("name").asText(), i.get("status").asText()));
        assertThat(verdict).containsEntry("round 1 drained", "PASS").containsEntry("round 2 drained", "WARN")
                .containsEntry("round 1 swept", "PASS").containsEntry("reconciliation", "PASS")
                .containsEntry("OVER_BUDGET", "PASS").containsEntry("prepared transactions left", "PASS")
                .containsEntry("fault kill-taskmanager", "PASS").containsEntry("round 2 lag recovered", "PASS");
        assertThat(report.at("/verdict/passed").asBoolean())
                .as("a swept round left with more than 0.01% is reported with its reason, and the night passes")
                .isEqualTo(!verdict.containsValue("FAIL"));
    }

    @Test
    void shouldMeasureTheRtoWhenTheJobResumesWithNothingLeftToRead() throws Exception {
        // A JobManager killed in the last round, the outage outlasting the traffic: the job resumes with all of it
        // in Kafka and reads it before its first checkpoint, so no sample has both input and a new checkpoint.
        RunFixture.write(dir);
        rewriteSamples(s -> {
            if (s.get("t").asLong() > RunFixture.FAULT_AT) {
                s.put("inputRate", 0);
            }
        });
        JsonNode fault = ReportCommand.build(dir).at("/gala/faults/0");
        assertThat(fault.get("rtoS").asDouble()).as("running again with a checkpoint after the fault").isEqualTo(6.0);
    }

    @Test
    void shouldNotCountACheckpointTheKilledTaskManagerHadAcknowledgedAsRunningAgain() throws Exception {
        // Region failover: the job stays RUNNING, only numRestarts tells, 3 s after the kill. The checkpoint of
        // t + 10 s completed after the kill (the dead TaskManager had acknowledged it before); the job runs again
        // with the next one, 15 s.
        RunFixture.write(dir);
        rewriteSamples(s -> {
            long t = s.get("t").asLong();
            s.put("jobState", "RUNNING").put("restarts", t >= RunFixture.FAULT_AT + 3_000 ? 1 : 0);
        });
        JsonNode fault = ReportCommand.build(dir).at("/gala/faults/0");
        assertThat(fault.get("rtoS").asDouble()).as("the checkpoint 7 s after the kill, not the one 2 s after")
                .isEqualTo(7.0);
    }

    @Test
    void shouldFailAFaultThatNeverReachedTheJob() throws Exception {
        // A TaskManager killed that ran none of the job's tasks: the job never went down, never restarted.
        RunFixture.write(dir);
        rewriteSamples(s -> s.put("jobState", "RUNNING").put("restarts", 0));
        JsonNode report = ReportCommand.build(dir);
        assertThat(report.at("/gala/faults/0").has("rtoS")).isFalse();
        Map<String, String> verdict = new HashMap<>();
        report.at("/verdict/items").forEach(i -> verdict.put(i.get("name").asText(), i.get("detail").asText()));
        assertThat(verdict.get("fault kill-taskmanager")).contains("the fault hit nothing it runs on");
        assertThat(report.at("/verdict/passed").asBoolean()).isFalse();
    }

    private void rewriteSamples(java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> change)
            throws Exception {
        Path file = dir.resolve("gala/samples.jsonl");
        java.util.List<String> out = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            var s = (com.fasterxml.jackson.databind.node.ObjectNode) RunFixture.JSON.readTree(line);
            change.accept(s);
            out.add(RunFixture.JSON.writeValueAsString(s));
        }
        Files.write(file, out);
    }

    @Test
    void shouldFailTheNightOnAFailedReconciliation() throws Exception {
        RunFixture.write(dir);
        RunFixture.JSON.writeValue(dir.resolve("gala/reconciliation.json").toFile(), RunFixture.reconciliation(false));
        JsonNode report = ReportCommand.build(dir);
        Map<String, String> verdict = new HashMap<>();
        report.at("/verdict/items").forEach(i -> verdict.put(i.get("name").asText(), i.get("status").asText()));
        assertThat(verdict).containsEntry("reconciliation", "FAIL").containsEntry("OVER_BUDGET", "FAIL");
    }

    @Test
    void shouldSayWhenTheReconciliationReportIsMissing() throws Exception {
        RunFixture.write(dir);
        Files.delete(dir.resolve("gala/reconciliation.json"));
        JsonNode report = ReportCommand.build(dir);
        assertThat(report.at("/gala/rounds/0/drained").asBoolean()).isFalse();
        assertThat(report.at("/gala/rounds/0/why").asText()).contains("missing from the reconciliation report");
        assertThat(report.at("/verdict/passed").asBoolean()).isFalse();
    }

    @Test
    void shouldChartOnlyWhatWasRead() throws Exception {
        JsonNode series = ReportCommand.build(RunFixture.write(dir)).at("/gala/series");
        long samples = Files.readAllLines(dir.resolve("gala/samples.jsonl")).size();
        assertThat(series.get("inputRate").size()).isEqualTo(samples);
        long gaps = 0;
        for (JsonNode p : series.get("inputRate")) {
            gaps += p.get(1).isNull() ? 1 : 0;
        }
        assertThat(gaps).as("no rate while the job restarted: a gap, not a line across it").isEqualTo(5);
        assertThat(series.get("checkpointMs").size()).as("one point per completed checkpoint").isBetween(10, 20);
        assertThat(series.get("remainingFen").get("1").get(0).get(1).asLong()).isEqualTo(60_000);
        assertThat(series.get("payoutsPerS").size()).isEqualTo(samples - 1);
    }
}
