package io.hongbao.jobs;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.flink.ShakeRecordDeserializationSchema;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.functions.ShakeWatermarks;
import io.hongbao.jobs.pipeline.IntakePipeline;
import io.hongbao.ingest.cli.KafkaOptions;
import java.nio.file.Path;
import java.util.Properties;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Reads the shake topic, validates every record against the round config and prints running counts per
 * round and per reject reason. The smallest real hongbao job; the payout job builds on the same intake.
 */
@Command(name = "shake-intake", mixinStandardHelpOptions = true,
        description = "Validate and count shake records from Kafka (running counts per round and reject reason).")
public final class ShakeIntakeJob implements Callable<Integer> {
    /** This job's consumer group: where it commits offsets (for lag monitoring; Flink restores from its checkpoints). */
    public static final String GROUP_ID = "hongbao-shake-intake";

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--topic", defaultValue = "hongbao.shakes", description = "Shake topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--profile", required = true, description = "Gala profile with the round config.")
    Path profile;

    @Option(names = "--bounded", description = "Stop at the topic's end offsets as of start (for local runs and tests).")
    boolean bounded;

    @Option(names = "--out-of-orderness", defaultValue = "PT2S", description = "Watermark bound (default: ${DEFAULT-VALUE}).")
    Duration outOfOrderness;

    @Option(names = "--idleness", defaultValue = "PT0S", description = "Partition idleness timeout (default: ${DEFAULT-VALUE}, off: gateway ticks move event time).")
    Duration idleness;

    public static void main(String[] args) {
        int exit = new CommandLine(new ShakeIntakeJob()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    @Override
    public Integer call() throws Exception {
        GalaProfile gala = GalaProfile.load(profile);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        KafkaSource<ShakeRecord> source = shakeSource(kafka.clientProperties(), topic, GROUP_ID, bounded);
        DataStream<ShakeRecord> records = env.fromSource(source,
                ShakeWatermarks.strategy(gala.windows(), outOfOrderness, idleness), "shakes").uid("shake-source");
        IntakePipeline.runningCounts(IntakePipeline.validate(records, gala.windows())).print().name("print counts");
        env.execute("hongbao shake intake (" + gala.name() + ")");
        return 0;
    }

    public static KafkaSource<ShakeRecord> shakeSource(String bootstrapServers, String topic, String groupId,
            boolean bounded) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        return shakeSource(props, topic, groupId, bounded);
    }

    /**
     * The shake topic as a source of decoded records with lineage, from the earliest offset.
     *
     * @param clientProps Kafka client properties: bootstrap servers and any security settings
     * @param groupId the consumer group the source commits its offsets under on each checkpoint: one per job and
     *     deployment, so lag shown per group is the lag of that job
     */
    public static KafkaSource<ShakeRecord> shakeSource(Properties clientProps, String topic, String groupId,
            boolean bounded) {
        var builder = KafkaSource.<ShakeRecord>builder()
                .setProperties(clientProps)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new ShakeRecordDeserializationSchema())
                .setProperty("isolation.level", "read_committed");
        if (bounded) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }
}
