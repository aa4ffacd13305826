package io.hongbao.bench;

import static io.hongbao.ingest.SplitMix64.mix;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.flink.ShakeRecordDeserializationSchema;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.counting.CellSums;
import io.hongbao.jobs.counting.InteractionCounter;
import io.hongbao.jobs.functions.ControlWatermarks;
import io.hongbao.jobs.functions.EventIdentity;
import io.hongbao.jobs.functions.RoundChangeDeserializationSchema;
import io.hongbao.jobs.functions.ShakeWatermarks;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.jobs.pipeline.IntakePipeline;
import io.hongbao.jobs.pipeline.PayoutJobGraph;
import io.hongbao.jobs.pipeline.PayoutPipeline;
import io.hongbao.money.Round;
import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.analytics.InteractionCount;
import io.hongbao.settlement.analytics.InteractionCountSink;
import io.hongbao.settlement.sink.SettlementSink;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

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
                        new CellSums(PayoutPipeline.CELL_SUM_INTERVAL)).uid("interaction-cell-sums")
                .keyBy(InteractionCounter::cellOf)
                .process(new InteractionCounter()).uid("interaction-counts").name("count interactions")
                .sinkTo(new TimedSink<>(new InteractionCountSink(db, Duration.ofSeconds(1)), run))
                .uid("interaction-count-sink");
    }

    /**
     * The identity operator alone ({@link EventIdentity}, the job's own), fed {@code devices} distinct devices
     * with {@code eventsPerDevice} shakes each in the profile's first round, keyed by identity shard exactly as
     * in the job: its checkpoint size over the id count is the state an id costs.
     */
    static void dedupeState(StreamExecutionEnvironment env, GalaProfile gala, long devices, int eventsPerDevice,
            PayoutSettings settings, String run) {
        Round round = gala.roundConfigs().get(0);
        TypeInformation<ShakeRecord> type = TypeInformation.of(ShakeRecord.class);
        // The identity's second input, the change desk's, as in a job where no change ever comes: the round's
        // rules as configured, then the end of the stream, whose watermark promises the schedule for good.
        DataStream<RoundInForce> noChanges = env.fromData(List.of(RoundInForce.configured(round)),
                TypeInformation.of(RoundInForce.class)).name("no round changes");
        env.fromSequence(0, devices * eventsPerDevice - 1).name("synthetic shakes")
                .map(i -> syntheticShake(i, devices, round, run)).returns(type).name("shake of device i % devices")
                .keyBy(r -> PayoutSettings.identityShardOf(r.event.eventIdHi, r.event.eventIdLo))
                .connect(noChanges.broadcast())
                .transform("one identity per event id", type,
                        new CountingIdentity(List.of(round), settings, run))
                .uid("event-identity")
                .map(r -> {
                    Probe.named(run).out();
                    return r;
                }).returns(type).name("probe")
                .sinkTo(new DiscardingSink<>());
    }

    /**
     * The job's identity operator, telling the probe how many ids it held at each checkpoint's barrier: a run's
     * ids after its last checkpoint are in no checkpoint (and a finished task's final checkpoint holds no
     * state), so bytes per id are the last checkpoint's size over the ids it holds.
     */
    static final class CountingIdentity extends EventIdentity {
        private static final long serialVersionUID = 1L;
        private final String run;

        CountingIdentity(List<Round> rounds, PayoutSettings settings, String run) {
            super(rounds, settings, PayoutPipeline.CELL_SUM_INTERVAL);
            this.run = run;
        }

        @Override
        public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
            long start = System.nanoTime();
            super.prepareSnapshotPreBarrier(checkpointId);
            Probe.named(run).preBarrier(System.nanoTime() - start);
            Probe.named(run).heldAt(checkpointId, idsRemembered());
        }
    }

    /** Random-looking 128-bit ids, as clients make them; shake i belongs to device i % devices. */
    private static ShakeRecord syntheticShake(long i, long devices, Round round, String run) {
        Probe.named(run).in();
        long device = i % devices;
        long at = round.startsAtMs() + 1;
        ShakeRecord r = new ShakeRecord();
        r.event = new ShakeEvent(mix(i + 1), mix(~i), userOf(device), device, round.roundId(), Channel.IOS, "CN-11",
                at, at, i / devices);
        r.topic = "synthetic";
        r.offset = i;
        return r;
    }

    static long userOf(long device) {
        return 100_000_000L + device;
    }
}
