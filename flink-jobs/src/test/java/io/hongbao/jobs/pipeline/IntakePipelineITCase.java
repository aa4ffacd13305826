package io.hongbao.jobs.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.generator.KafkaShakeProducer;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.ShakeTopics;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.functions.ShakeValidation;
import io.hongbao.jobs.functions.ShakeWatermarks;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The intake stage in a Flink MiniCluster (parallelism 2) reading generated traffic from a real broker. */
class IntakePipelineITCase {
    @RegisterExtension
    @Order(1)
    static final EmbeddedKafka KAFKA = new EmbeddedKafka();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));

    @Test
    void shouldCountEveryRecordUnderItsRoundOrRejectReason() throws Exception {
        String topic = EmbeddedKafka.freshTopic("shakes");
        Manifest manifest = produceTiny(topic, 5);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        DataStream<ShakeRecord> records = env.fromSource(
                KafkaSources.shakes(KAFKA.clientProperties(), topic, "hongbao-intake-test", true),
                ShakeWatermarks.strategy(TINY.windows(), Duration.ofSeconds(2), Duration.ofSeconds(5)), "shakes");
        Map<String, Long> finalCounts = new HashMap<>();
        try (CloseableIterator<Tuple2<String, Long>> it =
                runningCounts(IntakePipeline.validate(records, TINY.windows())).executeAndCollect()) {
            it.forEachRemaining(t -> finalCounts.merge(t.f0, t.f1, Math::max));
        }

        long shakes = finalCounts.entrySet().stream().filter(e -> e.getKey().startsWith("round-"))
                .mapToLong(Map.Entry::getValue).sum();
        assertThat(shakes).isEqualTo(manifest.expected.distinctValidEvents() + manifest.expected.duplicates());
        for (RejectReason reason : RejectReason.values()) {
            assertThat(finalCounts.get("rejected-" + reason)).as(reason.name())
                    .isEqualTo(manifest.expected.rejected().get(reason));
        }
        for (int round : manifest.expected.rounds().keySet()) {
            assertThat(finalCounts.get("round-" + round)).isGreaterThanOrEqualTo(
                    manifest.expected.rounds().get(round).distinctEvents());
        }
    }

    /**
     * Running record counts per outcome: {@code round-<id>} for in-window shakes (retries included, nothing
     * is deduplicated at this stage) and {@code rejected-<REASON>}. Each update is the new running total.
     */
    private static DataStream<Tuple2<String, Long>> runningCounts(SingleOutputStreamOperator<ShakeRecord> validated) {
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

    private static Manifest produceTiny(String topic, long seed) {
        ShakeTopics.ensure(KAFKA.clientProperties(), topic, TINY.traffic().partitions());
        Manifest manifest = new Manifest();
        try (KafkaShakeProducer producer = new KafkaShakeProducer(KAFKA.clientProperties(), topic)) {
            new ShakeTrafficGenerator(TINY, seed, 0).generate(manifest.andThen(producer));
        }
        return manifest.finish();
    }
}
