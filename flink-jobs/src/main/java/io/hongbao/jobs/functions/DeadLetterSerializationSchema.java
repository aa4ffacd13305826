package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A rejected shake record as a dead letter: the original bytes as the value, and headers naming the reason,
 * the detail and where the record came from, so it can be inspected or replayed.
 */
public class DeadLetterSerializationSchema implements KafkaRecordSerializationSchema<ShakeRecord> {
    private static final long serialVersionUID = 1L;
    public static final String REASON = "hongbao.reason";
    public static final String DETAIL = "hongbao.detail";
    public static final String SOURCE = "hongbao.source";
    public static final String SOURCE_TIMESTAMP = "hongbao.source-timestamp";

    private final String topic;

    public DeadLetterSerializationSchema(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ShakeRecord rejected, KafkaSinkContext context, Long timestamp) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(REASON, rejected.rejectReason.name().getBytes(StandardCharsets.UTF_8));
        headers.add(DETAIL, String.valueOf(rejected.rejectDetail).getBytes(StandardCharsets.UTF_8));
        headers.add(SOURCE, rejected.lineage().getBytes(StandardCharsets.UTF_8));
        headers.add(SOURCE_TIMESTAMP, Long.toString(rejected.kafkaTimestampMs).getBytes(StandardCharsets.UTF_8));
        // No record timestamp: the stream's is event time (a shake's claimed time, possibly years off), which
        // brokers refuse outside message.timestamp.*.max.ms; the producer's clock stamps the dead letter.
        return new ProducerRecord<>(topic, null, null, rejected.lineage().getBytes(StandardCharsets.UTF_8),
                rejected.raw, headers);
    }
}
