package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.RoundWindows;
import io.hongbao.jobs.functions.ShakeValidation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The first stage every hongbao job shares: shake records in, in-window shakes out, rejected records to the
 * {@link ShakeValidation#REJECTED} side output. Takes a stream, not a source, so tests and jobs plug in
 * whatever source they have.
 */
public final class IntakePipeline {
    private IntakePipeline() {}

    public static SingleOutputStreamOperator<ShakeRecord> validate(DataStream<ShakeRecord> records,
            RoundWindows windows) {
        return records.process(new ShakeValidation(windows)).uid("shake-validation").name("validate shakes");
    }

    /** As {@link #validate}, leaving rounds and windows to a later stage that knows the live schedule. */
    public static SingleOutputStreamOperator<ShakeRecord> readable(DataStream<ShakeRecord> records) {
        return records.process(ShakeValidation.recordsOnly()).uid("shake-validation").name("validate shakes");
    }
}
