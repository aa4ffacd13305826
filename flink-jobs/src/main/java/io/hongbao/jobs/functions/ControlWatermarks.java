package io.hongbao.jobs.functions;

import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Watermarks for the control stream: none, and the stream is idle from its first periodic emit on. Event time
 * is the shakes' gateway time; the control stream must neither hold it back (an idle control topic is the normal
 * case) nor push it forward. An earlier version emitted {@code Long.MAX_VALUE}: when every shake partition went
 * quiet, that maximum won, the deciders' event time ran to the end of time and every open and future round
 * closed. An idle input takes no part in the operator's watermark, so only shakes move it.
 */
public final class ControlWatermarks {
    private ControlWatermarks() {}

    public static <T> WatermarkStrategy<T> neverHoldBack() {
        return WatermarkStrategy.forGenerator(context -> new WatermarkGenerator<T>() {
            @Override
            public void onEvent(T event, long timestamp, WatermarkOutput output) {}

            @Override
            public void onPeriodicEmit(WatermarkOutput output) {
                output.markIdle();
            }
        });
    }
}
