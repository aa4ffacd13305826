package io.hongbao.jobs.functions;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Drops every record and forwards the stream's watermarks: how the {@link RoundChangeDesk} learns how far the
 * shakes' event time has come without a copy of any shake crossing the network. Chained to its input, it
 * costs a call per record.
 */
public final class WatermarksOnly<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(StreamRecord<T> element) {}
}
