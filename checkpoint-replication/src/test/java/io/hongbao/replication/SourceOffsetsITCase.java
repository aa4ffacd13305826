package io.hongbao.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.generator.ShakeTopics;
import io.hongbao.ingest.testing.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SourceOffsets} reads the KafkaSource's split state out of a real checkpoint (State Processor API, the
 * connector's split serializer): a job reads two topics to their ends, and its checkpoint must name, per partition
 * of the asked topic, exactly the offset after the last record (the other topic's splits are not mixed in). The DR drill's "events to
 * replay" rests on this; a change of the connector's split format fails here, not in a failover.
 */
class SourceOffsetsITCase {
    @RegisterExtension
    @Order(1)
    static final EmbeddedKafka KAFKA = new EmbeddedKafka();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(retainingCheckpoints()).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(3)
            .build()); // the job's 2 slots, the reader's 1

    @TempDir
    Path checkpoints;

    /** Checkpoints kept while the test reads them (a cluster setting): a read is a job that opens their files later. */
    private static Configuration retainingCheckpoints() {
        Configuration conf = new Configuration();
        conf.setString("execution.checkpointing.num-retained", "500");
        return conf;
    }

    @Test
    void shouldReadThePositionOfEveryPartitionOfTheTopic() throws Exception {
        String shakes = EmbeddedKafka.freshTopic("shakes");
        String control = EmbeddedKafka.freshTopic("control");
        ShakeTopics.ensure(KAFKA.clientProperties(), shakes, 3);
        ShakeTopics.ensure(KAFKA.clientProperties(), control, 1);
        // 7, 0 and 12 records: the empty partition's split has read nothing and holds the connector's "earliest"
        // sentinel (-2), which must come out as offset 0, not missing and not -2 (that once made replay counts 2 high).
        produce(shakes, 0, 7);
        produce(shakes, 2, 12);
        produce(control, 0, 5);

        JobClient job = readBothTopics(shakes, control);
        Path jobDir = checkpoints.resolve(job.getJobID().toHexString());
        Map<Integer, Long> offsets = Map.of();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        // Offsets only grow: wait for a checkpoint taken after everything was read.
        while (!offsets.equals(Map.of(0, 7L, 1, 0L, 2, 12L)) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            Optional<Path> newest = newestCheckpoint(jobDir);
            if (newest.isPresent()) {
                offsets = SourceOffsets.of(FileSystem.getLocalFileSystem(),
                        new org.apache.flink.core.fs.Path(newest.get().toUri()), shakes);
            }
        }
        Optional<Path> newest = newestCheckpoint(jobDir);
        job.cancel().get();

        assertThat(offsets).as("partition -> next offset of %s", shakes).isEqualTo(Map.of(0, 7L, 1, 0L, 2, 12L));
        assertThat(SourceOffsets.of(FileSystem.getLocalFileSystem(),
                new org.apache.flink.core.fs.Path(newest.orElseThrow().toUri()), control)).isEqualTo(Map.of(0, 5L));
        assertThat(SourceOffsets.of(FileSystem.getLocalFileSystem(),
                new org.apache.flink.core.fs.Path(newest.orElseThrow().toUri()), "no-such-topic")).isEmpty();
    }

    private JobClient readBothTopics(String... topics) throws Exception {
        Configuration conf = new Configuration();
        conf.setString("execution.checkpointing.dir", checkpoints.toUri().toString());
        conf.setString("execution.checkpointing.interval", "200 ms");
        // Kept after the cancel too: the test reads the newest one then.
        conf.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        // The split state is small: without this it would be inlined into _metadata, which SourceOffsets reads too.
        conf.setString("execution.checkpointing.data-inline-threshold", "0 b");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        for (String topic : topics) {
            env.fromSource(KafkaSource.<String>builder().setBootstrapServers(KAFKA.bootstrapServers())
                            .setTopics(topic).setGroupId("offsets-" + topic)
                            .setStartingOffsets(OffsetsInitializer.earliest())
                            .setValueOnlyDeserializer(new SimpleStringSchema()).build(),
                    WatermarkStrategy.noWatermarks(), topic).uid("source-" + topic)
                    .sinkTo(new DiscardingSink<>());
        }
        return env.executeAsync("source offsets");
    }

    private static Optional<Path> newestCheckpoint(Path jobDir) throws Exception {
        List<Path> completed = CheckpointReplicatorITCase.completedCheckpoints(jobDir);
        return completed.isEmpty() ? Optional.empty() : Optional.of(completed.get(completed.size() - 1));
    }

    private static void produce(String topic, int partition, int records) throws Exception {
        var text = new StringSerializer();
        try (var producer = new KafkaProducer<>(KAFKA.clientProperties(), text, text)) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, partition, null, "record " + i)).get();
            }
        }
    }
}
