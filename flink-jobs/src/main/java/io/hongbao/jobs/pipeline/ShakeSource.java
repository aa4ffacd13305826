package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.flink.ShakeRecordDeserializationSchema;
import java.util.Properties;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;

/** The shake topic as a Kafka source of decoded records with their lineage. */
public final class ShakeSource {
    private ShakeSource() {}

    /**
     * From the earliest offset, committed records only.
     *
     * @param clientProps Kafka client properties: bootstrap servers and any security settings
     * @param groupId the consumer group the source commits its offsets under on each completed checkpoint (for lag
     *     monitoring; Flink restores from its checkpoints): one per job and deployment, so a group's lag is one
     *     job's
     * @param bounded stop at the end offsets as of start (local runs and tests)
     */
    public static KafkaSource<ShakeRecord> of(Properties clientProps, String topic, String groupId, boolean bounded) {
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
