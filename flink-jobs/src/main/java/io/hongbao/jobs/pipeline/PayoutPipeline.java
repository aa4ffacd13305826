package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.RoundWindows;
import io.hongbao.jobs.functions.RoundSweeper;
import io.hongbao.jobs.functions.ShakeValidation;
import io.hongbao.jobs.functions.ShardPayoutDecider;
import io.hongbao.jobs.payout.LedgerLine;
import io.hongbao.jobs.payout.PayoutDecision;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRules;
import io.hongbao.jobs.payout.SweepInput;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The payout topology, from shake records and round changes to payouts, ledger lines, rejected records and
 * distinct shakes. Takes streams and returns streams: the job plugs in Kafka and PostgreSQL, tests plug in
 * what they need.
 *
 * <pre>
 * shakes -> validate -> keyBy(shard of user) -> ShardPayoutDecider -> payouts
 *              |                                   | overflow, shard reports
 *              v rejected                          v
 *                                    keyBy(round) -> RoundSweeper -> payouts
 * round changes ---- broadcast to both ----^
 * </pre>
 */
public final class PayoutPipeline {
    private PayoutPipeline() {}

    /** What the topology produces. */
    public record Outputs(DataStream<PayoutDecision> payouts, DataStream<LedgerLine> ledger,
            DataStream<RoundRules> appliedRules, DataStream<ShakeRecord> rejected,
            DataStream<ShakeRecord> distinctShakes) {}

    public static Outputs build(DataStream<ShakeRecord> records, DataStream<RoundChange> changes,
            List<RoundRules> rules, RoundWindows windows, PayoutSettings settings) {
        SingleOutputStreamOperator<ShakeRecord> valid = IntakePipeline.validate(records, windows);
        BroadcastStream<RoundChange> control = changes.broadcast(ShardPayoutDecider.RULES, io.hongbao.jobs.functions.RoundRulesInForce.CHANGE_IDS);

        SingleOutputStreamOperator<PayoutDecision> shardPayouts = valid
                .keyBy(r -> settings.shardOf(r.event.userId))
                .connect(control)
                .process(new ShardPayoutDecider(rules, settings))
                .uid("payout-shards").name("decide payouts per shard");

        TypeInformation<SweepInput> sweepType = TypeInformation.of(SweepInput.class);
        DataStream<SweepInput> toSweep = shardPayouts.getSideOutput(ShardPayoutDecider.OVERFLOW)
                .map(SweepInput::of).returns(sweepType).name("overflow")
                .union(shardPayouts.getSideOutput(ShardPayoutDecider.SHARD_REPORTS)
                        .map(SweepInput::of).returns(sweepType).name("shard reports"));
        SingleOutputStreamOperator<PayoutDecision> sweptPayouts = toSweep
                .keyBy(SweepInput::roundId)
                .connect(control)
                .process(new RoundSweeper(rules, settings))
                .uid("round-sweeper").name("sweep round budgets");

        return new Outputs(
                shardPayouts.union(sweptPayouts),
                shardPayouts.getSideOutput(ShardPayoutDecider.LEDGER)
                        .union(sweptPayouts.getSideOutput(ShardPayoutDecider.LEDGER)),
                shardPayouts.getSideOutput(ShardPayoutDecider.APPLIED_RULES),
                valid.getSideOutput(ShakeValidation.REJECTED),
                shardPayouts.getSideOutput(ShardPayoutDecider.DISTINCT_SHAKES));
    }
}
