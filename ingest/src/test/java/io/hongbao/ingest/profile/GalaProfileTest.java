package io.hongbao.ingest.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.testing.Datasets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class GalaProfileTest {

    @Test
    void shouldLoadTheTinyProfile() {
        GalaProfile tiny = GalaProfile.load(Datasets.file("tiny.yaml"));

        assertThat(tiny.name()).isEqualTo("tiny");
        assertThat(tiny.rounds()).extracting(RoundProfile::id).containsExactly(1, 2);
        RoundProfile first = tiny.round(1);
        assertThat(first.tiers()).hasSize(2);
        assertThat(first.tiers().get(0).isFixedAmount()).isFalse();
        assertThat(first.tiers().get(1).isFixedAmount()).isTrue();
        assertThat(first.tiers().get(1).minFen()).isEqualTo(8888);
        assertThat(tiny.roundEndMs(first) - tiny.roundStartMs(first)).isEqualTo(10_000);
    }

    @Test
    void shouldGiveTheGalaABudgetOfOnePointFiveBillionYuan() {
        GalaProfile gala = GalaProfile.load(Datasets.file("gala.yaml"));

        assertThat(gala.rounds()).hasSize(7);
        assertThat(gala.totalBudgetFen()).isEqualTo(150_000_000_000L);
        assertThat(gala.rounds()).allSatisfy(r -> assertThat(r.tiers()).hasSize(4));
    }

    @Test
    void shouldJudgeRoundWindowsByGatewayTime() {
        GalaProfile tiny = GalaProfile.load(Datasets.file("tiny.yaml"));
        RoundWindows windows = tiny.windows();
        long start = tiny.roundStartMs(tiny.round(1));
        ShakeEvent shake = new ShakeEvent(1, 1, 1, 1, 1, Channel.IOS, "CN-BJ", start, start, 1);

        assertThat(windows.check(shake)).isNull();
        shake.gatewayTsMs = start - 1;
        assertThat(windows.check(shake)).isEqualTo(RejectReason.OUT_OF_WINDOW);
        shake.gatewayTsMs = start + 10_000;
        assertThat(windows.check(shake)).isEqualTo(RejectReason.OUT_OF_WINDOW);
        assertThat(windows.explain(shake)).contains("outside round 1");
        shake.roundId = 99;
        assertThat(windows.check(shake)).isEqualTo(RejectReason.UNKNOWN_ROUND);
        assertThat(windows.explain(shake)).contains("round 99 is not configured");
    }

    @Test
    void shouldNameTheFieldOfAnUnknownKey() throws Exception {
        String yaml = Files.readString(Datasets.file("tiny.yaml")).replace("users: 2000", "users: 2000\n  userz: 2000");

        assertThatThrownBy(() -> GalaProfile.parse(yaml, "bad.yaml"))
                .isInstanceOf(ProfileException.class)
                .hasMessageContaining("bad.yaml")
                .hasMessageContaining("userz");
    }

    @Test
    void shouldRejectOverlappingRounds() throws Exception {
        String yaml = Files.readString(Datasets.file("tiny.yaml")).replace("start_offset: PT30S", "start_offset: PT5S");

        assertThatThrownBy(() -> GalaProfile.parse(yaml, "overlap.yaml"))
                .isInstanceOf(ProfileException.class)
                .hasMessageContaining("overlap");
    }

    @Test
    void shouldRejectARoundEndingBeyondTheRepresentableTime() throws Exception {
        // Parses as a Duration and fits in milliseconds, but gala_start plus it does not fit an Instant.
        String yaml = Files.readString(Datasets.file("tiny.yaml"))
                .replace("start_offset: PT30S", "start_offset: PT2562047788015H");

        assertThatThrownBy(() -> GalaProfile.parse(yaml, "far.yaml"))
                .isInstanceOf(ProfileException.class)
                .hasMessageContaining("round 2 ends beyond the representable time range");
    }

    @Test
    void shouldRejectATierWhoseRangeIsUpsideDown() throws Exception {
        String yaml = Files.readString(Datasets.file("tiny.yaml")).replace("min_fen: 100, max_fen: 888",
                "min_fen: 888, max_fen: 100");

        assertThatThrownBy(() -> GalaProfile.parse(yaml, "tier.yaml"))
                .isInstanceOf(ProfileException.class)
                .hasMessageContaining("max_fen 100 < min_fen 888");
    }

    @Test
    void shouldRejectATierWithBothAFixedAmountAndARange() throws Exception {
        String yaml = Files.readString(Datasets.file("tiny.yaml")).replace("amount_fen: 8888,",
                "amount_fen: 8888, min_fen: 1, max_fen: 2,");

        assertThatThrownBy(() -> GalaProfile.parse(yaml, "tier.yaml"))
                .isInstanceOf(ProfileException.class)
                .hasMessageContaining("not both");
    }

    @Test
    void shouldRejectAnUnknownChannel() throws Exception {
        String yaml = Files.readString(Datasets.file("tiny.yaml")).replace("tv: 5", "fax: 5");

        assertThatThrownBy(() -> GalaProfile.parse(yaml, "channel.yaml"))
                .isInstanceOf(ProfileException.class)
                .hasMessageContaining("unknown channel 'fax'");
    }
}
