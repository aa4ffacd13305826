package io.hongbao.bench;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.counting.CellSums;
import io.hongbao.jobs.counting.InteractionCounter;
import io.hongbao.jobs.pipeline.IntakePipeline;
import io.hongbao.jobs.pipeline.PayoutPipeline;
import io.hongbao.settlement.analytics.InteractionCount;
import java.time.Duration;
import java.util.Properties;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * What a Flink user would write instead of the payout job's dedupe, over the same topic, with the same
 * decode and validation, the same RocksDB state and checkpoints (the production configuration the benchmark
 * gives every production run), followed by the same counts per round, minute, channel and region. Neither
 * pays anything: they are the floor a dedupe-and-count job costs in Flink's own idioms.
 */
final class Peers {
    /** How long each peer remembers an event id: a gala round and its retries, as a user would pick it. */
    static final Duration ID_TTL = Duration.ofHours(1);

    private Peers() {}

    /**
     * Flink SQL's own deduplication (keep the first row per event id, {@code ROW_NUMBER() OVER (PARTITION BY
     * event id ORDER BY proctime) = 1}), mini-batch on, then {@code COUNT(*)} per cell.
     */
    static void sql(StreamExecutionEnvironment env, Properties kafka, String topic, GalaProfile gala, String run) {
        StreamTableEnvironment tables = StreamTableEnvironment.create(env);
        tables.getConfig().set("table.exec.mini-batch.enabled", "true");
        tables.getConfig().set("table.exec.mini-batch.allow-latency", "1 s");
        tables.getConfig().set("table.exec.mini-batch.size", "5000");
        tables.getConfig().set("table.exec.state.ttl", ID_TTL.toMillis() + " ms");
        DataStream<Row> shakes = valid(env, kafka, topic, gala, run)
                .map(r -> Row.of(r.event.eventIdHi, r.event.eventIdLo, r.event.roundId,
                        InteractionCount.minuteOf(r.event.gatewayTsMs), r.event.channel.key(), r.event.region))
                .returns(Types.ROW_NAMED(new String[] {"id_hi", "id_lo", "round_id", "minute_ms", "channel", "region"},
                        Types.LONG, Types.LONG, Types.INT, Types.LONG, Types.STRING, Types.STRING))
                .name("shakes as rows");
        tables.createTemporaryView("shakes", shakes,
                Schema.newBuilder().columnByExpression("proctime", "PROCTIME()").build());
        Table counts = tables.sqlQuery("""
                SELECT round_id, minute_ms, channel, region, COUNT(*) AS shakes
                FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id_hi, id_lo ORDER BY proctime ASC) AS rn
                      FROM shakes)
                WHERE rn = 1
                GROUP BY round_id, minute_ms, channel, region""");
        tables.toChangelogStream(counts).sinkTo(new TimedSink<>(new DiscardingSink<>(), run)).name("counts");
    }

    /**
     * The textbook DataStream dedupe: {@code keyBy(event id)} and a {@code ValueState} flag with a TTL, then
     * the payout job's own counting operators.
     */
    static void dataStream(StreamExecutionEnvironment env, Properties kafka, String topic, GalaProfile gala,
            String run) {
        valid(env, kafka, topic, gala, run)
                .keyBy(r -> r.event.eventIdHex())
                .process(new FirstSeen()).name("dedupe by event id")
                .transform("sum shakes per cell", TypeInformation.of(InteractionCount.class),
                        new CellSums(PayoutPipeline.CELL_SUM_INTERVAL))
                .keyBy(InteractionCounter::cellOf)
                .process(new InteractionCounter()).name("count interactions")
                .sinkTo(new TimedSink<>(new DiscardingSink<>(), run));
    }

    private static DataStream<ShakeRecord> valid(StreamExecutionEnvironment env, Properties kafka, String topic,
            GalaProfile gala, String run) {
        return IntakePipeline.validate(Topologies.shakes(env, kafka, topic, gala, run), gala.windows());
    }

    /** Passes a shake on the first time its event id is seen within the TTL. */
    static final class FirstSeen extends KeyedProcessFunction<String, ShakeRecord, ShakeRecord> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Boolean> seen;

        @Override
        public void open(OpenContext openContext) {
            ValueStateDescriptor<Boolean> descriptor = new ValueStateDescriptor<>("seen", Types.BOOLEAN);
            descriptor.enableTimeToLive(StateTtlConfig.newBuilder(ID_TTL).build());
            seen = getRuntimeContext().getState(descriptor);
        }

        @Override
        public void processElement(ShakeRecord r, Context ctx, Collector<ShakeRecord> out) throws Exception {
            if (seen.value() == null) {
                seen.update(Boolean.TRUE);
                out.collect(r);
            }
        }
    }
}
