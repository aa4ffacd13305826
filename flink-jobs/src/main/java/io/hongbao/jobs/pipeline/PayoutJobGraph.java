package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.counting.CellSums;
import io.hongbao.jobs.counting.InteractionCounter;
import io.hongbao.jobs.counting.RejectTally;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRules;
import io.hongbao.settlement.SettlementRecord;
import io.hongbao.settlement.analytics.InteractionCount;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
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
    /** How long a deciding task sums shakes per count cell before handing the sums on (and at each checkpoint). */
    public static final java.time.Duration CELL_SUM_INTERVAL = java.time.Duration.ofMillis(200);

    private PayoutJobGraph() {}

    /** Where the job's outputs go. */
    public record Sinks(Sink<SettlementRecord> settlement, Sink<InteractionCount> interactionCounts,
            Sink<ShakeRecord> deadLetters) {}

    public static PayoutPipeline.Outputs build(StreamExecutionEnvironment env, DataStream<ShakeRecord> shakes,
            DataStream<RoundChange> changes, GalaProfile gala, PayoutSettings settings, Sinks sinks) {
        return build(env, shakes, changes, gala, settings, sinks, java.time.Instant.now().toString());
    }

    /** @param jobStart names this fresh start in the ledger's CONFIGURED lines */
    public static PayoutPipeline.Outputs build(StreamExecutionEnvironment env, DataStream<ShakeRecord> shakes,
            DataStream<RoundChange> changes, GalaProfile gala, PayoutSettings settings, Sinks sinks,
            String jobStart) {
        List<RoundRules> rules = RoundRules.of(gala);
        PayoutPipeline.Outputs out = PayoutPipeline.build(shakes, changes, rules, gala.windows(), settings);
        TypeInformation<SettlementRecord> row = TypeInformation.of(SettlementRecord.class);

        List<SettlementRecord> startingConfig = new ArrayList<>();
        for (RoundRules r : rules) {
            startingConfig.add(SettlementRecords.of(r));
            startingConfig.add(SettlementRecords.of(SettlementRecords.configured(r, gala.name(), jobStart)));
        }
        DataStream<SettlementRecord> configured = env.fromData(startingConfig, row)
                .uid("starting-round-config").name("round config from profile");

        DataStream<SettlementRecord> rejectTotals = out.rejected()
                .keyBy(r -> r.rejectReason.name())
                .process(new RejectTally()).uid("reject-totals").name("count rejects per reason")
                .map(SettlementRecords::of).returns(row).name("reject totals");

        configured
                .union(out.payouts().map(SettlementRecords::of).returns(row).name("payout rows"),
                        out.ledger().map(SettlementRecords::of).returns(row).name("ledger rows"),
                        out.appliedRules().map(SettlementRecords::of).returns(row).name("round config rows"),
                        rejectTotals)
                .sinkTo(sinks.settlement()).uid("settlement-sink").name("settlement tables");
        out.distinctShakes()
                .transform("sum shakes per cell", TypeInformation.of(InteractionCount.class),
                        new CellSums(CELL_SUM_INTERVAL)).uid("interaction-cell-sums")
                .keyBy(InteractionCounter::cellOf)
                .process(new InteractionCounter()).uid("interaction-counts").name("count interactions")
                .sinkTo(sinks.interactionCounts()).uid("interaction-count-sink").name("interaction counts");
        out.rejected().sinkTo(sinks.deadLetters()).uid("dead-letter-sink").name("dead letters");
        return out;
    }
}
