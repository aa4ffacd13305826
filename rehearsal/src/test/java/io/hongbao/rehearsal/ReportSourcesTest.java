package io.hongbao.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The report says where each series came from: samples per source, as the sampler marked them. */
class ReportSourcesTest {
    private static ObjectNode sample(long t, String rateFrom) {
        ObjectNode s = RunFixture.JSON.createObjectNode().put("t", t).put("inputRate", 100).put("lag", 5)
                .put("backPressureMsPerS", 0).put("payouts", 3);
        s.putObject("sources").put("inputRate", rateFrom).put("lag", rateFrom);
        return s;
    }

    @Test
    void shouldCountTheSamplesOfEachSeriesPerSource() {
        ObjectNode older = RunFixture.JSON.createObjectNode().put("t", 0L).put("inputRate", 90); // no sources: REST
        JsonNode sources = ReportCommand.series(List.of(older, sample(1_000, "prometheus"), sample(2_000, "prometheus"),
                sample(3_000, "rest"))).get("sources");

        assertThat(sources.get("inputRate").get("prometheus").asLong()).isEqualTo(2);
        assertThat(sources.get("inputRate").get("rest").asLong()).as("the REST fallback and the line without sources")
                .isEqualTo(2);
        assertThat(sources.get("lag").get("prometheus").asLong()).isEqualTo(2);
        assertThat(sources.get("backPressureMsPerS").get("rest").asLong()).isEqualTo(3);
        assertThat(sources.get("payouts").get("database").asLong()).isEqualTo(3);
        assertThat(sources.has("restarts")).as("no sample had restarts").isFalse();
    }
}
