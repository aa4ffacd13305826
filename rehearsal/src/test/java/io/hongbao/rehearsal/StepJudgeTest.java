package io.hongbao.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepJudgeTest {
    private static List<JsonNode> step(long rate, long lagStart, long lagPerSecond, long checkpointMs, long failed) {
        List<JsonNode> samples = new ArrayList<>();
        for (int i = 0; i <= 20; i++) {
            ObjectNode s = RunFixture.JSON.createObjectNode().put("t", i * 1000L).put("jobState", "RUNNING")
                    .put("inputRate", rate).put("lag", lagStart + lagPerSecond * i)
                    // bursts, as under a quota: the counter moves every other second
                    .put("sourceRecords", rate * (i - i % 2));
            s.putObject("checkpoints").put("lastId", i / 5).put("lastDurationMs", checkpointMs).put("failed", i > 15 ? failed : 0);
            samples.add(s);
        }
        return samples;
    }

    @Test
    void shouldSustainAStepWithBoundedLagAndQuickCheckpoints() {
        JsonNode v = StepJudge.judge(step(10_000, 2_000, 10, 800, 0), 0, 20_000, 5_000);
        assertThat(v.get("sustained").asBoolean()).as(v.toString()).isTrue();
        assertThat(v.get("rate").asLong()).isEqualTo(10_000);
        assertThat(v.get("checkpoints").asInt()).as("checkpoints 1..4 completed in the step").isEqualTo(4);
    }

    @Test
    void shouldRefuseAStepWhoseLagGrows() {
        JsonNode v = StepJudge.judge(step(10_000, 0, 1_500, 800, 0), 0, 20_000, 5_000);
        assertThat(v.get("sustained").asBoolean()).isFalse();
        assertThat(v.get("why").asText()).contains("lag");
    }

    @Test
    void shouldRefuseAStepWhoseCheckpointsOutlastTheInterval() {
        JsonNode v = StepJudge.judge(step(10_000, 100, 0, 6_000, 0), 0, 20_000, 5_000);
        assertThat(v.get("why").asText()).contains("6,000 ms");
        assertThat(v.get("sustained").asBoolean()).isFalse();
    }

    @Test
    void shouldRefuseAStepWithAFailedCheckpoint() {
        JsonNode v = StepJudge.judge(step(10_000, 100, 0, 800, 1), 0, 20_000, 5_000);
        assertThat(v.get("why").asText()).contains("failed");
    }
}
