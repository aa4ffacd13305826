package io.hongbao.jobs.functions;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Forwards records and takes the stream out of event time: swallows every watermark and status and declares
 * the stream idle, so an operator it feeds judges time by its other inputs alone.
 *
 * <p>For the control stream. Its source's watermark strategy ({@link ControlWatermarks}) already emits none,
 * but a source that ends (a bounded run) still sends {@code Long.MAX_VALUE} at its end, and that maximum wins
 * whenever the shake input is idle: every round would close at once. Behind this operator nothing of the
 * control stream's time reaches the deciders.
 */
public final class WithoutEventTime<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {
    private static final long serialVersionUID = 1L;

    @Override
    public void open() throws Exception {
        super.open();
        output.emitWatermarkStatus(WatermarkStatus.IDLE);
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) {}

    @Override
    public void processWatermarkStatus(WatermarkStatus watermarkStatus) {}
}
