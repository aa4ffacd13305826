package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.RoundWindows;
import io.hongbao.jobs.functions.ShakeValidation;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.common.typeinfo.Types;
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

    /**
     * Running record counts per outcome: {@code round-<id>} for in-window shakes (retries included, nothing
     * is deduplicated at this stage) and {@code rejected-<REASON>}. Each update is the new running total.
     */
    public static DataStream<Tuple2<String, Long>> runningCounts(SingleOutputStreamOperator<ShakeRecord> validated) {
        DataStream<Tuple2<String, Long>> shakes = validated
                .map(r -> Tuple2.of("round-" + r.event.roundId, 1L))
                .returns(Types.TUPLE(Types.STRING, Types.LONG))
                .name("per round");
        DataStream<Tuple2<String, Long>> rejects = validated.getSideOutput(ShakeValidation.REJECTED)
                .map(r -> Tuple2.of("rejected-" + r.rejectReason, 1L))
                .returns(Types.TUPLE(Types.STRING, Types.LONG))
                .name("per reject reason");
        return shakes.union(rejects)
                .keyBy(t -> t.f0)
                .sum(1)
                .uid("intake-counts")
                .name("running counts");
    }
}
