package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.flink.ShakeRecordDeserializationSchema;
import java.util.Properties;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;

/** The job's Kafka sources: from the earliest offset, committed records only. */
public final class KafkaSources {
    private KafkaSources() {}

    /** The shake topic as decoded records with their lineage. */
    public static KafkaSource<ShakeRecord> shakes(Properties clientProps, String topic, String groupId,
            boolean bounded) {
        return committed(clientProps, topic, groupId, new ShakeRecordDeserializationSchema(), bounded);
    }

    /**
     * @param clientProps Kafka client properties: bootstrap servers and any security settings
     * @param groupId the consumer group the source commits its offsets under on each completed checkpoint (for lag
     *     monitoring; Flink restores from its checkpoints): one per job and deployment, so a group's lag is one
     *     job's
     * @param bounded stop at the end offsets as of start (local runs and tests)
     */
    public static <T> KafkaSource<T> committed(Properties clientProps, String topic, String groupId,
            KafkaRecordDeserializationSchema<T> deserializer, boolean bounded) {
        var builder = KafkaSource.<T>builder()
                .setProperties(clientProps)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(deserializer)
                .setProperty("isolation.level", "read_committed");
        if (bounded) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }
}
