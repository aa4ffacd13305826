package io.hongbao.bench;

import static io.hongbao.ingest.SplitMix64.mix;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.flink.ShakeRecordDeserializationSchema;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.counting.CellSums;
import io.hongbao.jobs.counting.InteractionCounter;
import io.hongbao.jobs.functions.ControlWatermarks;
import io.hongbao.jobs.functions.EventDedupe;
import io.hongbao.jobs.functions.RoundChangeDeserializationSchema;
import io.hongbao.jobs.functions.ShakeWatermarks;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.pipeline.IntakePipeline;
import io.hongbao.jobs.pipeline.PayoutJobGraph;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.analytics.InteractionCount;
import io.hongbao.settlement.analytics.InteractionCountSink;
import io.hongbao.settlement.sink.SettlementSink;
import java.time.Duration;
import java.util.Properties;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * The jobs the benchmark measures, each bounded to the topic's end offsets at start. The payout and counting
 * jobs are the production topology (PayoutJobGraph / IntakePipeline + InteractionCounter) with the
 * production sinks; only the dead-letter sink is a discarding one (rejects are ~0.4% of the records and a
 * Kafka transaction per checkpoint is not what is measured here).
 */
final class Topologies {
    /** Gateway-time disorder the job allows, as PayoutJob. */
    static final Duration OUT_OF_ORDERNESS = Duration.ofSeconds(2);
    /** Partition idleness, PayoutJob's default: off (bounded runs end with the end of input). */
    static final Duration IDLENESS = Duration.ZERO;

    private Topologies() {}

    static <T> KafkaSource<T> source(Properties kafka, String topic, String group,
            KafkaRecordDeserializationSchema<T> deserializer) {
        return KafkaSource.<T>builder()
                .setProperties(kafka)
                .setTopics(topic)
                .setGroupId(group)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setBounded(OffsetsInitializer.latest())
                .setDeserializer(deserializer)
                .setProperty("isolation.level", "read_committed")
                .build();
    }

    static DataStream<ShakeRecord> shakes(StreamExecutionEnvironment env, Properties kafka, String topic,
            GalaProfile gala, String run) {
        return env.fromSource(source(kafka, topic, "bench-" + run,
                        new TimedDeserializer<>(new ShakeRecordDeserializationSchema(), run)),
                ShakeWatermarks.strategy(gala.windows(), OUT_OF_ORDERNESS, IDLENESS), "shakes").uid("shake-source");
    }

    /** Kafka → decode → validate → dedupe → budget → payouts exactly once into PostgreSQL, and the counts. */
    static void payout(StreamExecutionEnvironment env, Properties kafka, String topic, String controlTopic,
            GalaProfile gala, PayoutSettings settings, SettlementDatabase db, String run) {
        DataStream<ShakeRecord> shakes = shakes(env, kafka, topic, gala, run);
        DataStream<RoundChange> changes = env.fromSource(source(kafka, controlTopic, "bench-control-" + run,
                        new RoundChangeDeserializationSchema()),
                ControlWatermarks.neverHoldBack(), "round changes").uid("control-source");
        PayoutJobGraph.build(env, shakes, changes, gala, settings, new PayoutJobGraph.Sinks(
                SettlementSink.builder().database(db).sinkName("bench-" + run).build(),
                new TimedSink<>(new InteractionCountSink(db, Duration.ofSeconds(1)), run),
                new DiscardingSink<>()));
    }

    /**
     * The counting path alone: Kafka → decode → validate → sums per cell → keyBy cell → count → upsert into
     * PostgreSQL. In the payout job the same counting runs behind the dedupe; here it counts retries too.
     */
    static void counting(StreamExecutionEnvironment env, Properties kafka, String topic, GalaProfile gala,
            SettlementDatabase db, String run) {
        IntakePipeline.validate(shakes(env, kafka, topic, gala, run), gala.windows())
                .transform("sum shakes per cell", TypeInformation.of(InteractionCount.class),
                        new CellSums(PayoutJobGraph.CELL_SUM_INTERVAL)).uid("interaction-cell-sums")
                .keyBy(InteractionCounter::cellOf)
                .process(new InteractionCounter()).uid("interaction-counts").name("count interactions")
                .sinkTo(new TimedSink<>(new InteractionCountSink(db, Duration.ofSeconds(1)), run))
                .uid("interaction-count-sink");
    }

    /**
     * The dedupe operator alone, fed {@code devices} distinct devices with {@code eventsPerDevice} events each,
     * keyed by identity shard exactly as EventIdentity is: its checkpoint size over the device count is
     * the state a device costs.
     */
    static void dedupeState(StreamExecutionEnvironment env, long devices, int eventsPerDevice,
            PayoutSettings settings, String run) {
        env.fromSequence(0, devices * eventsPerDevice - 1).name("synthetic shakes")
                .keyBy(i -> PayoutSettings.identityShardOf(mix(i + 1), mix(~i)))
                .process(new DedupeOnly(devices, run)).uid("dedupe").name("dedupe")
                .sinkTo(new DiscardingSink<>());
    }

    static long userOf(long device) {
        return 100_000_000L + device;
    }

    /** The payout decider's retry filter and nothing else. */
    static final class DedupeOnly extends KeyedProcessFunction<Integer, Long, Long> {
        private static final long serialVersionUID = 1L;
        private final long devices;
        private final String run;
        private transient EventDedupe dedupe;
        private transient Probe probe;

        DedupeOnly(long devices, String run) {
            this.devices = devices;
            this.run = run;
        }

        @Override
        public void open(OpenContext openContext) {
            dedupe = EventDedupe.open(getRuntimeContext());
            probe = Probe.named(run);
        }

        @Override
        public void processElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            probe.in();
            // Random-looking 128-bit ids, as clients make them; event i belongs to device i % devices.
            if (dedupe.remember(mix(i + 1), mix(~i), 1, userOf(i % devices)) == EventDedupe.Verdict.NEW) {
                probe.out();
            }
        }
    }
}
