package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.RoundWindows;
import io.hongbao.jobs.functions.EventIdentity;
import io.hongbao.jobs.functions.RoundChangeDesk;
import io.hongbao.jobs.functions.RoundSweeper;
import io.hongbao.jobs.functions.ShakeValidation;
import io.hongbao.jobs.functions.ShakeWatermarks;
import io.hongbao.jobs.functions.WatermarksOnly;
import io.hongbao.jobs.functions.ShardPayoutDecider;
import io.hongbao.jobs.functions.WithoutEventTime;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundInForce;
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
 *              | rejected     | watermarks only              ^ | UNKNOWN_ROUND, OUT_OF_WINDOW, repeats     ^ | LATE guard; overflow, shard reports
 *              v              v                              | v dropped; LATE, EVENT_ID_REUSED; cell sums | v
 * round changes -------> RoundChangeDesk (p=1) -> rules in force + schedule promise (watermark), broadcast -+-> keyBy(round) -> RoundSweeper -> payouts
 *                          | ledger lines, applied rules                            configured rounds ----^
 * </pre>
 *
 * <p>Only winners cross the second hop: the identity counts and draws every distinct shake itself. Live changes
 * are decided once, by the desk, which also promises how far event time is free of schedule changes; rounds and
 * windows are judged at the identity against the schedule in force at each shake's event time.
 */
public final class PayoutPipeline {
    /** How long the identity task sums shakes per count cell before handing the sums on (and at each checkpoint). */
    public static final Duration CELL_SUM_INTERVAL = Duration.ofMillis(200);
    /**
     * How far ahead of the shakes' watermark a schedule change must take effect: 15 times the job's 2 s
     * out-of-orderness, so that in-order traffic never waits for the promise (flink-jobs/README.md, "Live
     * schedule").
     */
    public static final Duration SCHEDULE_LEAD = Duration.ofSeconds(30);

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
        return build(records, changes, rules, windows, settings, SCHEDULE_LEAD);
    }

    /** @param scheduleLead how far ahead of the shakes' watermark a schedule change must take effect */
    public static Outputs build(DataStream<ShakeRecord> records, DataStream<RoundChange> changes,
            List<Round> rules, RoundWindows windows, PayoutSettings settings, Duration scheduleLead) {
        // Rounds and windows are judged at the identity, against the live schedule; here only readability.
        SingleOutputStreamOperator<ShakeRecord> valid = IntakePipeline.readable(records);
        // Round changes never move event time: only shakes close rounds (WithoutEventTime says why).
        DataStream<RoundChange> changesOutOfTime = changes
                .transform("round changes out of event time", changes.getType(), new WithoutEventTime<>())
                .setParallelism(changes.getParallelism()).uid("control-without-event-time");
        DataStream<ShakeRecord> shakeTime = valid
                .transform("shake event time", valid.getType(), new WatermarksOnly<>()).uid("shake-event-time");
        // Past the last configured end plus half the tick horizon the gateway's ticks may no longer close a
        // round (ShakeWatermarks ignores ticks beyond the horizon): no window may end later.
        long latestEndMs = windows.lastEndMs() == Long.MIN_VALUE ? Long.MIN_VALUE
                : windows.lastEndMs() + ShakeWatermarks.TICK_HORIZON.toMillis() / 2;
        SingleOutputStreamOperator<RoundInForce> rulesInForce = changesOutOfTime
                .connect(shakeTime.global())
                .transform("decide round changes", TypeInformation.of(RoundInForce.class),
                        new RoundChangeDesk<ShakeRecord>(rules, settings.reservePerMillion(), scheduleLead,
                                latestEndMs))
                .setParallelism(1).setMaxParallelism(1).uid("round-change-desk")
                // Never chained: at job parallelism 1 its successors would join its task and take its max
                // parallelism of 1, and a savepoint of the job at any other parallelism would no longer restore.
                .disableChaining();
        BroadcastStream<RoundInForce> control = rulesInForce.broadcast(ShardPayoutDecider.RULES);

        // The identity and the deciders keep their broadcast state themselves: the rules reach every one.
        SingleOutputStreamOperator<ShakeRecord> winners = valid
                .keyBy(r -> PayoutSettings.identityShardOf(r.event.eventIdHi, r.event.eventIdLo))
                .connect(rulesInForce.broadcast())
                .transform("one identity per event id", valid.getType(),
                        new EventIdentity(rules, settings, CELL_SUM_INTERVAL))
                .uid("event-identity");
        SingleOutputStreamOperator<Payout> shardPayouts = winners
                .keyBy(r -> settings.shardOf(r.event.userId))
                .connect(rulesInForce.broadcast())
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
                                .uid("configured-rounds").name("configured rounds"),
                        rulesInForce.map(SweepInput::changed).returns(sweepType).name("changed rounds"));
        SingleOutputStreamOperator<Payout> sweptPayouts = toSweep
                .keyBy(SweepInput::roundId)
                .connect(control)
                .process(new RoundSweeper(rules, settings))
                .uid("round-sweeper").name("sweep round budgets");

        return new Outputs(
                shardPayouts.union(sweptPayouts),
                sweptPayouts,
                rulesInForce.getSideOutput(ShardPayoutDecider.LEDGER)
                        .union(sweptPayouts.getSideOutput(ShardPayoutDecider.LEDGER)),
                rulesInForce.getSideOutput(RoundChangeDesk.APPLIED_RULES),
                valid.getSideOutput(ShakeValidation.REJECTED)
                        .union(winners.getSideOutput(EventIdentity.REJECTED),
                                shardPayouts.getSideOutput(ShardPayoutDecider.LATE)),
                winners.getSideOutput(EventIdentity.CELL_SUMS));
    }
}
