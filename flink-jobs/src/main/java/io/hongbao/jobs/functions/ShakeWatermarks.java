package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.RoundWindows;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.BoundedOutOfOrdernessWatermarks;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Event time for shake records: the gateway timestamp, with bounded out-of-orderness and idleness.
 *
 * <p>Only shakes inside a configured round's window move the watermark. A record with a wild clock (a bad
 * gateway, a forged timestamp) must not push event time forward and make every honest shake late; it is
 * rejected downstream anyway. Rejected records keep the Kafka record timestamp.
 */
public final class ShakeWatermarks {
    private ShakeWatermarks() {}

    public static WatermarkStrategy<ShakeRecord> strategy(RoundWindows windows, Duration outOfOrderness,
            Duration idleness) {
        WatermarkStrategy<ShakeRecord> strategy = WatermarkStrategy
                .<ShakeRecord>forGenerator(context -> new InWindowOnly(windows, outOfOrderness))
                .withTimestampAssigner((record, kafkaTs) -> record.event != null ? record.event.gatewayTsMs : kafkaTs);
        return idleness.isZero() ? strategy : strategy.withIdleness(idleness);
    }

    /** Bounded out-of-orderness over the in-window shakes only. */
    static final class InWindowOnly implements WatermarkGenerator<ShakeRecord> {
        private final RoundWindows windows;
        private final BoundedOutOfOrdernessWatermarks<ShakeRecord> bounded;

        InWindowOnly(RoundWindows windows, Duration outOfOrderness) {
            this.windows = windows;
            this.bounded = new BoundedOutOfOrdernessWatermarks<>(outOfOrderness);
        }

        @Override
        public void onEvent(ShakeRecord record, long timestamp, WatermarkOutput output) {
            if (record.event != null && windows.check(record.event) == null) {
                bounded.onEvent(record, timestamp, output);
            }
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            bounded.onPeriodicEmit(output);
        }
    }
}
