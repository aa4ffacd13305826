package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.RoundWindows;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.BoundedOutOfOrdernessWatermarks;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Event time for shake records: the gateway timestamp, with bounded out-of-orderness, moved by shakes and by the
 * gateway's ticks; idleness only when asked for (the money path runs without: {@code Duration.ZERO}).
 *
 * <p>Only shakes inside a configured round's window move the watermark. A record with a wild clock (a bad
 * gateway, a forged timestamp) must not push event time forward and make every honest shake late; it is
 * rejected downstream anyway. Rejected records keep the Kafka record timestamp.
 *
 * <p>A gateway tick ({@link ShakeRecord#isTick()}, timestamp = its gateway time) moves its partition's watermark
 * like an in-window shake: the gateway promises no more shakes on that partition below the tick minus the
 * out-of-orderness. That is what closes rounds when traffic stops (between rounds, after the gala) without an
 * idleness timeout, which would also close them while a partition is merely stalled and lose its later shakes.
 * Ticks are trusted like the gateway's shake timestamps, with one bound: a tick later than the last round's end
 * plus the tick horizon is ignored. In-window shakes never move event time past the last round's end, and ticks
 * need only reach a little past it to close the last round; a tick far beyond (a clock years off, seconds read
 * as milliseconds) would close every round still to come. Ignored, not clamped: clamping would do exactly that
 * damage. The horizon is generous (an hour by default) so that ticks of a gala running late still close its
 * last round, and a gateway ticks every second, so at least some of its ticks in that hour arrive.
 */
public final class ShakeWatermarks {
    /** How far past the last round's end a tick may still move event time. */
    public static final Duration TICK_HORIZON = Duration.ofHours(1);

    private ShakeWatermarks() {}

    /** With the default {@link #TICK_HORIZON}; {@code idleness} {@code Duration.ZERO} means none. */
    public static WatermarkStrategy<ShakeRecord> strategy(RoundWindows windows, Duration outOfOrderness,
            Duration idleness) {
        return strategy(windows, outOfOrderness, idleness, TICK_HORIZON);
    }

    /** {@code idleness} {@code Duration.ZERO} means none; ticks past the last round's end plus {@code tickHorizon} are ignored. */
    public static WatermarkStrategy<ShakeRecord> strategy(RoundWindows windows, Duration outOfOrderness,
            Duration idleness, Duration tickHorizon) {
        WatermarkStrategy<ShakeRecord> strategy = WatermarkStrategy
                .<ShakeRecord>forGenerator(context -> new InWindowOnly(windows, outOfOrderness, tickHorizon))
                .withTimestampAssigner(ShakeWatermarks::timestamp);
        return idleness.isZero() ? strategy : strategy.withIdleness(idleness);
    }

    /** The gateway time of a shake or a tick; the Kafka timestamp of a rejected record. */
    static long timestamp(ShakeRecord record, long kafkaTs) {
        if (record.event != null) {
            return record.event.gatewayTsMs;
        }
        return record.isTick() ? record.tickMs : kafkaTs;
    }

    /** Bounded out-of-orderness over the in-window shakes and the ticks within the horizon only. */
    static final class InWindowOnly implements WatermarkGenerator<ShakeRecord> {
        private final RoundWindows windows;
        private final long latestTickMs;
        private final BoundedOutOfOrdernessWatermarks<ShakeRecord> bounded;

        InWindowOnly(RoundWindows windows, Duration outOfOrderness, Duration tickHorizon) {
            this.windows = windows;
            long lastEnd = windows.lastEndMs();
            this.latestTickMs = lastEnd == Long.MIN_VALUE ? Long.MIN_VALUE : lastEnd + tickHorizon.toMillis();
            this.bounded = new BoundedOutOfOrdernessWatermarks<>(outOfOrderness);
        }

        @Override
        public void onEvent(ShakeRecord record, long timestamp, WatermarkOutput output) {
            if (record.event != null ? windows.check(record.event) == null
                    : record.isTick() && record.tickMs <= latestTickMs) {
                bounded.onEvent(record, timestamp, output);
            }
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            bounded.onPeriodicEmit(output);
        }
    }
}
