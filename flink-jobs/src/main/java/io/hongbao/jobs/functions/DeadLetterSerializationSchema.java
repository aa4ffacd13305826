package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;

/**
 * A rejected shake record as a dead letter: the original bytes as the value, and headers naming the reason,
 * the detail and where the record came from, so it can be inspected or replayed.
 *
 * <p>Every dead letter fits the producer's {@code max.request.size} ({@link #maxRecordBytes}): a record as large
 * as the shake topic allows (or an lz4 batch that expands past it) must not fail the producer with a
 * {@code RecordTooLargeException}, which would restart the job on the same record for ever. Such a value goes as
 * its longest prefix that fits, with {@link #TRUNCATED}, {@link #ORIGINAL_LENGTH} and {@link #ORIGINAL_SHA256}
 * headers; the whole record stays on the shake topic at the offset the {@link #SOURCE} header names.
 */
public class DeadLetterSerializationSchema implements KafkaRecordSerializationSchema<ShakeRecord> {
    private static final long serialVersionUID = 2L;
    public static final String REASON = "hongbao.reason";
    public static final String DETAIL = "hongbao.detail";
    public static final String SOURCE = "hongbao.source";
    public static final String SOURCE_TIMESTAMP = "hongbao.source-timestamp";
    public static final String TRUNCATED = "hongbao.truncated";
    public static final String ORIGINAL_LENGTH = "hongbao.original-length";
    public static final String ORIGINAL_SHA256 = "hongbao.original-sha256";

    /** The Kafka producer's default {@code max.request.size}. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
    /** Detail texts are ours (decoder messages); capped all the same, headers count against the limit too. */
    static final int MAX_DETAIL_CHARS = 1024;
    /**
     * What the value's length varint may grow by (1 byte for an empty value, up to 5), left free when the
     * prefix length is computed from the size with an empty value.
     */
    private static final int VALUE_LENGTH_SLACK = 4;

    private final String topic;
    private final int maxRecordBytes;

    /** With the producer's default size limit; {@link DeadLetters#sink} passes the one it configures. */
    public DeadLetterSerializationSchema(String topic) {
        this(topic, DEFAULT_MAX_RECORD_BYTES);
    }

    /**
     * @param maxRecordBytes the largest serialized record the producer sends: its {@code max.request.size}
     *     (and at most its {@code buffer.memory}), which Kafka checks against the record's size upper bound
     *     including the batch overhead
     */
    public DeadLetterSerializationSchema(String topic, int maxRecordBytes) {
        this.topic = topic;
        this.maxRecordBytes = maxRecordBytes;
    }

    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ShakeRecord rejected, KafkaSinkContext context, Long timestamp) {
        byte[] key = rejected.lineage().getBytes(StandardCharsets.UTF_8);
        byte[] raw = rejected.raw == null ? new byte[0] : rejected.raw;
        RecordHeaders headers = new RecordHeaders();
        headers.add(REASON, rejected.rejectReason.name().getBytes(StandardCharsets.UTF_8));
        String detail = String.valueOf(rejected.rejectDetail);
        if (detail.length() > MAX_DETAIL_CHARS) {
            detail = detail.substring(0, MAX_DETAIL_CHARS) + "...";
        }
        headers.add(DETAIL, detail.getBytes(StandardCharsets.UTF_8));
        headers.add(SOURCE, key);
        headers.add(SOURCE_TIMESTAMP, Long.toString(rejected.kafkaTimestampMs).getBytes(StandardCharsets.UTF_8));
        byte[] value = raw;
        if (sizeUpperBound(key, ByteBuffer.wrap(raw), headers) > maxRecordBytes) {
            headers.add(TRUNCATED, "true".getBytes(StandardCharsets.UTF_8));
            headers.add(ORIGINAL_LENGTH, Integer.toString(raw.length).getBytes(StandardCharsets.UTF_8));
            headers.add(ORIGINAL_SHA256, sha256Hex(raw).getBytes(StandardCharsets.UTF_8));
            int room = maxRecordBytes - sizeUpperBound(key, ByteBuffer.allocate(0), headers) - VALUE_LENGTH_SLACK;
            if (room < 0) {
                throw new IllegalStateException("max.request.size " + maxRecordBytes + " leaves no room for a dead "
                        + "letter's key and headers (" + (maxRecordBytes - room) + " bytes)");
            }
            value = Arrays.copyOf(raw, Math.min(room, raw.length));
        }
        // No record timestamp: the stream's is event time (a shake's claimed time, possibly years off), which
        // brokers refuse outside message.timestamp.*.max.ms; the producer's clock stamps the dead letter.
        return new ProducerRecord<>(topic, null, null, key, value, headers);
    }

    /** The bound the producer itself checks against max.request.size (KafkaProducer#doSend). */
    static int sizeUpperBound(byte[] key, ByteBuffer value, RecordHeaders headers) {
        return AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                ByteBuffer.wrap(key), value, headers.toArray());
    }

    static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
