package io.hongbao.jobs.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.profile.RoundWindows;
import io.hongbao.ingest.testing.Datasets;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.TimestampAssigner;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.clock.RelativeClock;
import org.apache.flink.util.clock.SystemClock;
import org.junit.jupiter.api.Test;

/** One partition's watermark generator, as the Kafka source runs it per split, fed shakes and gateway ticks. */
class ShakeWatermarksTest {
    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));
    private static final RoundWindows WINDOWS = TINY.windows();
    private static final long OUT_OF_ORDERNESS_MS = 2_000;
    private static final long ROUND1_START = TINY.roundStartMs(TINY.round(1));
    private static final long ROUND1_END = TINY.roundEndMs(TINY.round(1));
    private static final long ROUND2_END = TINY.roundEndMs(TINY.round(2));

    private final WatermarkStrategy<ShakeRecord> strategy =
            ShakeWatermarks.strategy(WINDOWS, Duration.ofMillis(OUT_OF_ORDERNESS_MS), Duration.ZERO);
    private final WatermarkGenerator<ShakeRecord> generator = strategy.createWatermarkGenerator(CONTEXT);
    private final TimestampAssigner<ShakeRecord> timestamps = strategy.createTimestampAssigner(CONTEXT::getMetricGroup);
    private final RecordingOutput output = new RecordingOutput();

    @Test
    void shouldTimeATickByItsGatewayTime() {
        assertThat(timestamps.extractTimestamp(tick(ROUND1_END + 5_000), 42L)).isEqualTo(ROUND1_END + 5_000);
        assertThat(timestamps.extractTimestamp(shake(1, ROUND1_START + 10), 42L)).isEqualTo(ROUND1_START + 10);
        assertThat(timestamps.extractTimestamp(rejected(), 42L)).isEqualTo(42L);
    }

    @Test
    void shouldAdvanceOnATickLikeOnAnInWindowShake() {
        feed(shake(1, ROUND1_START + 1_000));
        assertThat(emit()).isEqualTo(ROUND1_START + 1_000 - OUT_OF_ORDERNESS_MS - 1);

        feed(tick(ROUND1_START + 4_000));

        assertThat(emit()).isEqualTo(ROUND1_START + 4_000 - OUT_OF_ORDERNESS_MS - 1);
    }

    /** After the last shake only ticks come; they alone must take event time past every round's end. */
    @Test
    void shouldCloseEveryRoundOnTicksAloneWhenTrafficStops() {
        feed(shake(1, ROUND1_START + 500));
        for (long t = ROUND1_START + 1_000; t <= ROUND2_END + 60_000; t += 1_000) {
            feed(tick(t));
            // The gap between the rounds: no shake at all, yet event time moves with the gateway's clock.
            if (t == ROUND1_END + 10_000) {
                assertThat(emit()).isGreaterThanOrEqualTo(ROUND1_END - 1);
            }
        }

        assertThat(emit()).isEqualTo(ROUND2_END + 60_000 - OUT_OF_ORDERNESS_MS - 1)
                .isGreaterThanOrEqualTo(ROUND2_END - 1);
        assertThat(output.idle).as("no idleness involved").isFalse();
    }

    @Test
    void shouldNeverGoBackOnAnOlderTick() {
        feed(tick(ROUND1_START + 9_000));
        long before = emit();

        feed(tick(ROUND1_START + 1_000));

        assertThat(emit()).isEqualTo(before);
    }

    /** A tick beyond the last round's end plus the horizon would close every round still to come: ignored. */
    @Test
    void shouldIgnoreATickPastTheLastRoundsEndPlusTheHorizon() {
        long horizonEnd = ROUND2_END + ShakeWatermarks.TICK_HORIZON.toMillis();
        feed(shake(1, ROUND1_START + 1_000));
        long honest = emit();

        feed(tick(horizonEnd + 1));
        feed(tick(Long.MAX_VALUE));
        feed(tick(ROUND1_START * 1_000)); // seconds read as milliseconds the wrong way round: far future

        assertThat(emit()).isEqualTo(honest);

        feed(tick(horizonEnd));
        assertThat(emit()).isEqualTo(horizonEnd - OUT_OF_ORDERNESS_MS - 1);
    }

    @Test
    void shouldTakeTheHorizonItIsGiven() {
        WatermarkGenerator<ShakeRecord> tight = ShakeWatermarks.strategy(WINDOWS, Duration.ofMillis(OUT_OF_ORDERNESS_MS),
                Duration.ZERO, Duration.ofSeconds(10)).createWatermarkGenerator(CONTEXT);
        tight.onEvent(tick(ROUND2_END + 10_001), ROUND2_END + 10_001, output);
        tight.onPeriodicEmit(output);
        assertThat(output.last.getTimestamp()).as("nothing moved it").isEqualTo(Long.MIN_VALUE);

        tight.onEvent(tick(ROUND2_END + 10_000), ROUND2_END + 10_000, output);
        tight.onPeriodicEmit(output);
        assertThat(output.last.getTimestamp()).isEqualTo(ROUND2_END + 10_000 - OUT_OF_ORDERNESS_MS - 1);
    }

    @Test
    void shouldStillIgnoreOutOfWindowShakesUnknownRoundsAndRejects() {
        feed(shake(1, ROUND1_START + 1_000));
        long honest = emit();

        feed(shake(1, ROUND2_END + 3_600_000));
        feed(shake(999, ROUND1_START + 5_000));
        feed(rejected());

        assertThat(emit()).isEqualTo(honest);
    }

    @Test
    void shouldUseNoIdlenessWhenGivenZero() {
        assertThat(generator).isInstanceOf(ShakeWatermarks.InWindowOnly.class);
        assertThat(ShakeWatermarks.strategy(WINDOWS, Duration.ofSeconds(2), Duration.ofSeconds(1))
                .createWatermarkGenerator(CONTEXT)).isNotInstanceOf(ShakeWatermarks.InWindowOnly.class);
    }

    private void feed(ShakeRecord record) {
        generator.onEvent(record, timestamps.extractTimestamp(record, 0L), output);
    }

    private long emit() {
        generator.onPeriodicEmit(output);
        return output.last.getTimestamp();
    }

    private static ShakeRecord tick(long gatewayTsMs) {
        byte[] value = ShakeEventCodec.encodeTick(gatewayTsMs, 0);
        return ShakeRecord.of(ShakeEventCodec.decode(value), value, "shakes", 0, 0, 0);
    }

    private static ShakeRecord shake(int round, long gatewayTsMs) {
        ShakeEvent e = new ShakeEvent(1, 2, 100_000_001L, 9, round, Channel.IOS, "CN-SH", gatewayTsMs - 100,
                gatewayTsMs, 1);
        return ShakeRecord.of(DecodeResult.accepted(e), null, "shakes", 0, 0, 0);
    }

    private static ShakeRecord rejected() {
        byte[] garbage = {ShakeEventCodec.FORMAT_V1, 0, 42};
        return ShakeRecord.of(ShakeEventCodec.decode(garbage), garbage, "shakes", 0, 0, Long.MAX_VALUE / 2);
    }

    private static final WatermarkGeneratorSupplier.Context CONTEXT = new WatermarkGeneratorSupplier.Context() {
        @Override
        public MetricGroup getMetricGroup() {
            return new UnregisteredMetricsGroup();
        }

        @Override
        public RelativeClock getInputActivityClock() {
            return SystemClock.getInstance();
        }
    };

    /** Keeps the last watermark, as the source's per-split output would pass it on. */
    private static final class RecordingOutput implements WatermarkOutput {
        Watermark last;
        boolean idle;

        @Override
        public void emitWatermark(Watermark watermark) {
            last = watermark;
            idle = false;
        }

        @Override
        public void markIdle() {
            idle = true;
        }

        @Override
        public void markActive() {
            idle = false;
        }
    }
}
