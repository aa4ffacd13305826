package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.counting.InteractionCounter;
import io.hongbao.jobs.counting.RejectTally;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Round;
import io.hongbao.money.SettlementRow;
import io.hongbao.settlement.analytics.InteractionCount;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The whole payout job between its sources and sinks: payouts, ledger lines, round configs and reject
 * totals to the settlement sink; interaction counts to their own sink; rejected records to the dead-letter
 * sink. Sources and sinks come in, so the same graph runs against Kafka and PostgreSQL in the job and against
 * anything else in tests.
 */
public final class PayoutJobGraph {
    private PayoutJobGraph() {}

    /** Where the job's outputs go. */
    public record Sinks(Sink<SettlementRow> settlement, Sink<InteractionCount> interactionCounts,
            Sink<ShakeRecord> deadLetters) {}

    public static PayoutPipeline.Outputs build(StreamExecutionEnvironment env, DataStream<ShakeRecord> shakes,
            DataStream<RoundChange> changes, GalaProfile gala, PayoutSettings settings, Sinks sinks) {
        return build(env, shakes, changes, gala, settings, sinks, java.time.Instant.now().toString());
    }

    /** @param jobStart names this fresh start in the ledger's CONFIGURED lines */
    public static PayoutPipeline.Outputs build(StreamExecutionEnvironment env, DataStream<ShakeRecord> shakes,
            DataStream<RoundChange> changes, GalaProfile gala, PayoutSettings settings, Sinks sinks,
            String jobStart) {
        return build(env, shakes, changes, gala, settings, PayoutPipeline.SCHEDULE_LEAD, sinks, jobStart);
    }

    /** @param scheduleLead how far ahead of the shakes' watermark a schedule change must take effect */
    public static PayoutPipeline.Outputs build(StreamExecutionEnvironment env, DataStream<ShakeRecord> shakes,
            DataStream<RoundChange> changes, GalaProfile gala, PayoutSettings settings, Duration scheduleLead,
            Sinks sinks, String jobStart) {
        List<Round> rounds = gala.roundConfigs();
        PayoutPipeline.Outputs out = PayoutPipeline.build(shakes, changes, rounds, gala.windows(), settings,
                scheduleLead);

        List<SettlementRow> startingConfig = new ArrayList<>();
        for (Round r : rounds) {
            startingConfig.add(r);
            startingConfig.add(configured(r, gala.name(), jobStart));
        }
        DataStream<SettlementRow> configured = env.fromData(startingConfig, SettlementRow.TYPE)
                .uid("starting-round-config").name("round config from profile");

        DataStream<SettlementRow> rejectTotals = rows(out.rejected()
                .keyBy(r -> r.rejectReason.name())
                .process(new RejectTally()).uid("reject-totals").name("count rejects per reason"), "reject totals");

        configured
                .union(rows(out.payouts(), "payout rows"), rows(out.ledger(), "ledger rows"),
                        rows(out.appliedRules(), "round config rows"), rejectTotals)
                .sinkTo(sinks.settlement()).uid("settlement-sink").name("settlement tables");
        out.interactionSums()
                .keyBy(InteractionCounter::cellOf)
                .process(new InteractionCounter()).uid("interaction-counts").name("count interactions")
                .sinkTo(sinks.interactionCounts()).uid("interaction-count-sink").name("interaction counts");
        out.rejected().sinkTo(sinks.deadLetters()).uid("dead-letter-sink").name("dead letters");
        return out;
    }

    /**
     * The ledger line that records a round's config as a job starts with it. {@code jobStart} tells apart the
     * lines of two fresh starts against the same database; it is fixed in the job graph, so a restore from a
     * checkpoint never writes the line again.
     */
    static LedgerEntry configured(Round r, String profileName, String jobStart) {
        return new LedgerEntry("configured-r" + r.roundId() + "-" + jobStart, r.roundId(), "CONFIGURED",
                r.budgetFen(), r.budgetFen(), "budget " + r.budgetFen() + " fen, " + r.tiers().size() + " tiers, win "
                        + r.winPerMillion() + " per million, from profile " + profileName,
                r.startsAtMs(), "profile:" + profileName);
    }

    /**
     * The stream as settlement rows, for the sink's union: the same objects, typed as the union (Flink's union
     * wants one type); chained, and the row serializer's copy is the row itself, so it costs no copy.
     */
    private static <T extends SettlementRow> DataStream<SettlementRow> rows(DataStream<T> stream, String name) {
        return stream.map((MapFunction<T, SettlementRow>) row -> row).returns(SettlementRow.TYPE).name(name);
    }
}
