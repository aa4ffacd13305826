package io.hongbao.ingest.profile;

import io.hongbao.money.Round;
import io.hongbao.money.Tier;
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
        assertThat(first.tiers().get(0).maxFen()).isGreaterThan(first.tiers().get(0).minFen());
        assertThat(first.tiers().get(1).minFen()).as("amount_fen: a fixed amount").isEqualTo(8888)
                .isEqualTo(first.tiers().get(1).maxFen());
        assertThat(tiny.roundEndMs(first) - tiny.roundStartMs(first)).isEqualTo(10_000);
    }

    @Test
    void shouldReadRoundsIntoTheMoneyModelWithTheWindowInEpochTimeAndTiersById() throws Exception {
        String yaml = java.nio.file.Files.readString(Datasets.file("tiny.yaml"))
                .replace("    name: warm-up\n", "")
                .replace("{id: 1, name: small, min_fen: 100, max_fen: 888, count_cap: 1000, weight: 95}",
                        "{id: 3, amount_fen: 5, count_cap: 7}");
        GalaProfile tiny = GalaProfile.parse(yaml, "tiny.yaml, round 1 unnamed, tier 1 as tier 3 after tier 2");

        long start = java.time.OffsetDateTime.parse("2027-02-06T20:00:00+08:00").toInstant().toEpochMilli();
        assertThat(tiny.roundConfig(tiny.round(1))).isEqualTo(new Round(1, "round-1", start, start + 10_000,
                1_000_000, 50_000, 2, 20_000, false, 0, java.util.List.of(new Tier(2, "big", 8888, 8888, 20, 5),
                        new Tier(3, "tier-3", 5, 5, 7, 1))));
        assertThat(tiny.roundConfigs()).extracting(Round::roundId).containsExactly(1, 2);
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

    @Test
    void shouldRampTheRehearsalsBurstIntoATenfoldPeakAndDecayFromIt() {
        TrafficProfile traffic = GalaProfile.load(Datasets.file("rehearsal.yaml")).traffic();
        double length = 60_000;
        double[] perSecond = new double[60];
        double sum = 0;
        for (int s = 0; s < 60; s++) {
            perSecond[s] = traffic.burstWeightBetween(s * 1000, (s + 1) * 1000, length);
            sum += perSecond[s];
        }

        assertThat(traffic.burstRamp()).isEqualTo(java.time.Duration.ofSeconds(10));
        assertThat(sum).as("the burst's spans add up to its share").isCloseTo(traffic.burstShare(),
                org.assertj.core.data.Offset.offset(1e-9));
        for (int s = 1; s < 10; s++) {
            assertThat(perSecond[s]).as("rising in second %d", s).isGreaterThan(perSecond[s - 1]);
        }
        for (int s = 11; s < 60; s++) {
            assertThat(perSecond[s]).as("decaying in second %d", s).isLessThan(perSecond[s - 1]);
        }
        assertThat(perSecond[0]).as("the ramp starts low").isLessThan(perSecond[9] / 10);
        assertThat(traffic.peakOverSteady(length)).as("a 10x peak").isBetween(9.9, 10.1);
    }

    @Test
    void shouldStartTheBurstAtItsPeakWithoutARamp() {
        TrafficProfile traffic = GalaProfile.load(Datasets.file("tiny.yaml")).traffic();
        double tau = traffic.burstDecay().toMillis();
        double b = traffic.burstShare();

        assertThat(traffic.burstRamp()).as("burst_ramp left out").isZero();
        assertThat(traffic.burstWeightBetween(0, 1000, 10_000))
                .isEqualTo(b * (1 - Math.exp(-1000 / tau)) / (1 - Math.exp(-10_000 / tau)));
        assertThat(traffic.peakOverSteady(10_000)).isCloseTo(
                1 + b * 10_000 / ((1 - b) * tau * (1 - Math.exp(-10_000 / tau))), org.assertj.core.data.Offset.offset(0.01));
    }

    @Test
    void shouldRejectANegativeRamp() throws Exception {
        String yaml = Files.readString(Datasets.file("tiny.yaml")).replace("burst_decay: PT2S",
                "burst_decay: PT2S\n  burst_ramp: PT-1S");

        assertThatThrownBy(() -> GalaProfile.parse(yaml, "ramp.yaml"))
                .isInstanceOf(ProfileException.class)
                .hasMessageContaining("burst_ramp must not be negative");
    }
}
