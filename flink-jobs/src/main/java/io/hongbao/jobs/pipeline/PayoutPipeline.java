package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.RoundWindows;
import io.hongbao.jobs.functions.EventIdentity;
import io.hongbao.jobs.functions.RoundRulesInForce;
import io.hongbao.jobs.functions.RoundSweeper;
import io.hongbao.jobs.functions.ShakeValidation;
import io.hongbao.jobs.functions.ShardPayoutDecider;
import io.hongbao.jobs.functions.WithoutEventTime;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.SweepInput;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import io.hongbao.settlement.analytics.InteractionCount;
import java.time.Duration;
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
 * shakes -> validate -> keyBy(identity shard of event id) -> EventIdentity -> winners -> keyBy(shard of user) -> ShardPayoutDecider -> payouts
 *              | rejected                                     | repeats dropped; LATE,                     | LATE guard; overflow, shard reports
 *              v                                              v EVENT_ID_REUSED rejected; cell sums        v
 *                                                                          configured rounds -> keyBy(round) -> RoundSweeper -> payouts
 * round changes ---- broadcast to the deciders and the sweeper ---------------------------------------------------^
 * </pre>
 *
 * <p>Only winners cross the second hop: the identity counts and draws every distinct shake itself.
 */
public final class PayoutPipeline {
    /** How long the identity task sums shakes per count cell before handing the sums on (and at each checkpoint). */
    public static final Duration CELL_SUM_INTERVAL = Duration.ofMillis(200);

    private PayoutPipeline() {}

    /**
     * What the topology produces: rows for the settlement tables as the deciders and the sweeper make them, and
     * the records that were rejected, and the partial sums of the distinct shakes per count cell.
     * {@code sweptPayouts} is the part of {@code payouts} the sweeper paid.
     */
    public record Outputs(DataStream<Payout> payouts, DataStream<Payout> sweptPayouts, DataStream<LedgerEntry> ledger,
            DataStream<Round> appliedRules, DataStream<ShakeRecord> rejected,
            DataStream<InteractionCount> interactionSums) {}

    public static Outputs build(DataStream<ShakeRecord> records, DataStream<RoundChange> changes,
            List<Round> rules, RoundWindows windows, PayoutSettings settings) {
        SingleOutputStreamOperator<ShakeRecord> valid = IntakePipeline.validate(records, windows);
        // Round changes never move event time: only shakes close rounds (WithoutEventTime says why).
        DataStream<RoundChange> changesOutOfTime = changes
                .transform("round changes out of event time", changes.getType(), new WithoutEventTime<>())
                .setParallelism(changes.getParallelism()).uid("control-without-event-time");
        BroadcastStream<RoundChange> control = changesOutOfTime.broadcast(ShardPayoutDecider.RULES,
                RoundRulesInForce.CHANGE_IDS);

        SingleOutputStreamOperator<ShakeRecord> winners = valid
                .keyBy(r -> PayoutSettings.identityShardOf(r.event.eventIdHi, r.event.eventIdLo))
                .transform("one identity per event id", valid.getType(),
                        new EventIdentity(rules, settings, CELL_SUM_INTERVAL))
                .uid("event-identity");
        // The deciders keep their broadcast state themselves (ShardPayoutDecider): the changes reach every one.
        SingleOutputStreamOperator<Payout> shardPayouts = winners
                .keyBy(r -> settings.shardOf(r.event.userId))
                .connect(changesOutOfTime.broadcast())
                .transform("decide payouts per shard", TypeInformation.of(Payout.class),
                        new ShardPayoutDecider(rules, settings))
                .uid("payout-shards");

        TypeInformation<SweepInput> sweepType = TypeInformation.of(SweepInput.class);
        // Every configured round is announced to its sweeper, so each gets its sweep and SWEPT line even when
        // no shard ever won in it (paused throughout, or no traffic at all).
        List<SweepInput> configuredRounds = rules.stream().map(r -> SweepInput.configured(r.roundId())).toList();
        DataStream<SweepInput> toSweep = shardPayouts.getSideOutput(ShardPayoutDecider.OVERFLOW)
                .map(SweepInput::of).returns(sweepType).name("overflow")
                .union(shardPayouts.getSideOutput(ShardPayoutDecider.SHARD_REPORTS)
                        .map(SweepInput::of).returns(sweepType).name("shard reports"),
                        records.getExecutionEnvironment().fromData(configuredRounds, sweepType)
                                .uid("configured-rounds").name("configured rounds"));
        SingleOutputStreamOperator<Payout> sweptPayouts = toSweep
                .keyBy(SweepInput::roundId)
                .connect(control)
                .process(new RoundSweeper(rules, settings))
                .uid("round-sweeper").name("sweep round budgets");

        return new Outputs(
                shardPayouts.union(sweptPayouts),
                sweptPayouts,
                shardPayouts.getSideOutput(ShardPayoutDecider.LEDGER)
                        .union(sweptPayouts.getSideOutput(ShardPayoutDecider.LEDGER)),
                shardPayouts.getSideOutput(ShardPayoutDecider.APPLIED_RULES),
                valid.getSideOutput(ShakeValidation.REJECTED)
                        .union(winners.getSideOutput(EventIdentity.REJECTED),
                                shardPayouts.getSideOutput(ShardPayoutDecider.LATE)),
                winners.getSideOutput(EventIdentity.CELL_SUMS));
    }
}
