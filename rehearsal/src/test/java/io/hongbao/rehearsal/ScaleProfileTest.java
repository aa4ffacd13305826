package io.hongbao.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ScaleProfileTest {
    private static final Path PROFILE = Path.of("../datasets/rehearsal.yaml");

    private static double fenPerInteraction(JsonNode profile) {
        long shakes = profile.at("/traffic/events_per_round").asLong() * profile.get("rounds").size();
        return profile.get("campaign_budget_fen").asDouble() / shakes;
    }

    @Test
    void shouldKeepTheCampaignsFenPerInteractionAtEveryScale() throws Exception {
        ObjectNode profile = (ObjectNode) new ObjectMapper(new YAMLFactory()).readTree(PROFILE.toFile());
        double campaign = 1.5e11 / 69.1e9;
        assertThat(fenPerInteraction(profile)).as("the profile as committed").isCloseTo(campaign, org.assertj.core.data.Offset.offset(0.001));
        ScaleProfile.scale(profile, 0.37, 1, 0);
        assertThat(fenPerInteraction(profile)).as("scaled by one factor").isCloseTo(campaign, org.assertj.core.data.Offset.offset(0.001));
        long sum = 0;
        for (JsonNode r : profile.get("rounds")) {
            sum += r.get("budget_fen").asLong();
        }
        assertThat(profile.get("campaign_budget_fen").asLong()).as("the campaign is the rounds' sum").isEqualTo(sum);
    }

    @Test
    void shouldScaleTimeAndCutRoundsAndDropATierThatFloorsToNothing() throws Exception {
        ObjectNode profile = (ObjectNode) new ObjectMapper(new YAMLFactory()).readTree(PROFILE.toFile());
        ScaleProfile.scale(profile, 0.5, 1 / 3.0, 3);
        assertThat(profile.get("rounds").size()).isEqualTo(3);
        JsonNode r2 = profile.get("rounds").get(1);
        assertThat(r2.get("start_offset").asText()).isEqualTo("PT30S");
        assertThat(r2.get("duration").asText()).isEqualTo("PT20S");
        assertThat(profile.at("/traffic/burst_decay").asText()).as("the peak keeps its shape").isEqualTo("PT1.667S");
        assertThat(profile.at("/traffic/burst_ramp").asText()).as("so does the ramp into it").isEqualTo("PT3.333S");
        assertThat(r2.get("tiers").findValuesAsText("name")).as("gold's single packet floors to 0 at half the money")
                .containsExactly("lucky", "silver");
        assertThat(r2.get("tiers").get(1).get("count_cap").asLong()).isEqualTo(15);
    }
}
