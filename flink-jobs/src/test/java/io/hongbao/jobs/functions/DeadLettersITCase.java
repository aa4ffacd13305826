package io.hongbao.jobs.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.generator.ShakeTopics;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.JobEnvironment;
import io.hongbao.jobs.pipeline.IntakePipeline;
import io.hongbao.jobs.pipeline.KafkaSources;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dead-letter sink on a real broker under a MiniCluster job that may not restart (restart strategy none:
 * a producer failure fails the test instead of looping): records too large for the producer become bounded
 * dead letters, records rejected after decoding travel as their original bytes, and two deployments on one
 * Kafka cluster both commit theirs.
 */
class DeadLettersITCase {
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
    private static final int MIB = 1024 * 1024;

    @TempDir
    Path checkpoints;

    @Test
    void shouldBoundOversizedDeadLettersAndKeepOriginalBytes() throws Exception {
        String shakes = EmbeddedKafka.freshTopic("big-shakes");
        String deadLetters = EmbeddedKafka.freshTopic("dead-letters");
        // The gateway's topic takes records up to 4 MiB; the dead-letter producer keeps the default 1 MiB.
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            admin.createTopics(List.of(new NewTopic(shakes, 1, (short) 1)
                    .configs(Map.of("max.message.bytes", Integer.toString(4 * MIB))))).all().get();
        }
        ShakeTopics.ensure(KAFKA.clientProperties(), deadLetters, 1);

        byte[] oneMiB = new byte[MIB];
        new Random(7).nextBytes(oneMiB);
        oneMiB[0] = ShakeEventCodec.FORMAT_V1;
        byte[] expandsPastLimit = new byte[2 * MIB]; // zeros: a few KB as an lz4 batch, 2 MiB once read
        expandsPastLimit[0] = ShakeEventCodec.FORMAT_V1;
        ShakeEvent unknownRound = new ShakeEvent(1, 2, 100_000_001L, 9, 99, Channel.IOS, "CN-SH", 1000, 1200, 3);
        // A field this build does not know (number 1000, varint 1): decodes, but a re-encoding would drop it.
        byte[] withUnknownField = concat(ShakeEventCodec.encode(unknownRound), new byte[] {(byte) 0xC0, 0x3E, 0x01});
        assertThat(ShakeEventCodec.decode(withUnknownField).isAccepted()).isTrue();
        byte[] garbage = {ShakeEventCodec.FORMAT_V1, 0, 42};
        send(shakes, "none", oneMiB);
        send(shakes, "lz4", expandsPastLimit);
        send(shakes, "none", withUnknownField);
        send(shakes, "none", garbage);

        StreamExecutionEnvironment env = environment();
        DataStream<ShakeRecord> records = env.fromSource(KafkaSources.shakes(KAFKA.clientProperties(), shakes, "hongbao-dead-letters-test", true),
                WatermarkStrategy.noWatermarks(), "shakes");
        var validated = IntakePipeline.validate(records, TINY.windows());
        validated.sinkTo(new DiscardingSink<>());
        validated.getSideOutput(ShakeValidation.REJECTED)
                .sinkTo(DeadLetters.sink(KAFKA.clientProperties(), deadLetters, "size-test"));
        env.execute("dead letters of every size");

        Map<String, ConsumerRecord<byte[], byte[]>> byOffset = KAFKA.readAll(deadLetters).stream()
                .collect(Collectors.toMap(r -> header(r, DeadLetterSerializationSchema.SOURCE), r -> r));
        assertThat(byOffset).hasSize(4);
        assertTruncated(byOffset.get(shakes + "/0/0"), oneMiB, RejectReason.OVERSIZED);
        assertTruncated(byOffset.get(shakes + "/0/1"), expandsPastLimit, RejectReason.OVERSIZED);
        ConsumerRecord<byte[], byte[]> rejectedLate = byOffset.get(shakes + "/0/2");
        assertThat(header(rejectedLate, DeadLetterSerializationSchema.REASON)).isEqualTo("UNKNOWN_ROUND");
        assertThat(rejectedLate.value()).as("the original bytes, not a re-encoding").isEqualTo(withUnknownField);
        assertThat(rejectedLate.headers().lastHeader(DeadLetterSerializationSchema.TRUNCATED)).isNull();
        ConsumerRecord<byte[], byte[]> undecodable = byOffset.get(shakes + "/0/3");
        assertThat(header(undecodable, DeadLetterSerializationSchema.REASON)).isEqualTo("UNDECODABLE");
        assertThat(undecodable.value()).isEqualTo(garbage);
    }

    @Test
    void shouldLetTwoDeploymentsOnOneClusterBothCommit() throws Exception {
        String shakes = EmbeddedKafka.freshTopic("bad-shakes");
        String staging = EmbeddedKafka.freshTopic("staging-dead-letters");
        String production = EmbeddedKafka.freshTopic("production-dead-letters");
        ShakeTopics.ensure(KAFKA.clientProperties(), shakes, 1);
        ShakeTopics.ensure(KAFKA.clientProperties(), staging, 1);
        ShakeTopics.ensure(KAFKA.clientProperties(), production, 1);
        for (int i = 0; i < 20; i++) {
            send(shakes, "none", ("not a shake " + i).getBytes(StandardCharsets.UTF_8));
        }

        // Two jobs' dead-letter sinks side by side, as two deployments on one Kafka cluster: same subtask
        // index, same checkpoint ids; only the deployment id tells their transactions apart.
        StreamExecutionEnvironment env = environment();
        DataStream<ShakeRecord> rejected = IntakePipeline.validate(env.fromSource(
                        KafkaSources.shakes(KAFKA.clientProperties(), shakes, "hongbao-dead-letters-test", true),
                        WatermarkStrategy.noWatermarks(), "shakes"), TINY.windows())
                .getSideOutput(ShakeValidation.REJECTED);
        rejected.sinkTo(DeadLetters.sink(KAFKA.clientProperties(), staging, "staging"));
        rejected.sinkTo(DeadLetters.sink(KAFKA.clientProperties(), production, "production"));
        env.execute("two deployments");

        assertThat(KAFKA.readAll(staging)).hasSize(20);
        assertThat(KAFKA.readAll(production)).hasSize(20);
    }

    private StreamExecutionEnvironment environment() {
        Configuration conf = JobEnvironment.configuration(checkpoints.toUri().toString(), Duration.ofMillis(200));
        conf.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        return env;
    }

    private static void assertTruncated(ConsumerRecord<byte[], byte[]> letter, byte[] original, RejectReason reason) {
        assertThat(letter).isNotNull();
        assertThat(header(letter, DeadLetterSerializationSchema.REASON)).isEqualTo(reason.name());
        assertThat(header(letter, DeadLetterSerializationSchema.TRUNCATED)).isEqualTo("true");
        assertThat(header(letter, DeadLetterSerializationSchema.ORIGINAL_LENGTH)).isEqualTo(Integer.toString(original.length));
        assertThat(header(letter, DeadLetterSerializationSchema.ORIGINAL_SHA256))
                .isEqualTo(DeadLetterSerializationSchema.sha256Hex(original));
        assertThat(letter.value().length).isLessThan(MIB).isGreaterThan(MIB - 2048);
        assertThat(letter.value()).isEqualTo(Arrays.copyOf(original, letter.value().length));
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Produces one record as a gateway would, its producer allowing 4 MiB, compressed as given. */
    private static void send(String topic, String compression, byte[] value) throws Exception {
        Properties props = KAFKA.clientProperties();
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(4 * MIB));
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        var bytes = new ByteArraySerializer();
        try (var producer = new KafkaProducer<>(props, bytes, bytes)) {
            producer.send(new ProducerRecord<>(topic, value)).get();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
