package io.hongbao.ingest.count;

import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.profile.RoundWindows;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a shake topic back from the beginning to the end it had when reading started, decodes every record
 * and counts it: distinct valid shakes, duplicates by event id, rejects by reason. A plain Kafka consumer,
 * independent of Flink, so it can check the generator and later the pipeline. Gateway ticks are no shakes and
 * no rejects: they are left out of the counts and only tallied on the side ({@link #ticks()}).
 */
public final class ShakeTopicCounter {
    private final Properties clientProps;
    private final RoundWindows windows;
    private long ticks;

    public ShakeTopicCounter(Properties clientProps, RoundWindows windows) {
        this.clientProps = clientProps;
        this.windows = windows;
    }

    public IntakeCounts count(String topic, Duration timeout) throws TimeoutException {
        Properties props = new Properties();
        props.putAll(clientProps);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        IntakeCounts counts = new IntakeCounts();
        Set<EventKey> seen = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalArgumentException("topic " + topic + " does not exist");
            }
            List<TopicPartition> partitions = infos.stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions, timeout));
            end.entrySet().removeIf(e -> consumer.position(e.getKey(), timeout) >= e.getValue());
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!end.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("still reading " + end.keySet() + " after " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    count(record.value(), counts, seen);
                }
                end.entrySet().removeIf(e -> consumer.position(e.getKey(), timeout) >= e.getValue());
            }
        }
        return counts;
    }

    /** Counts one record value; {@code seen} holds the event ids already counted. */
    public void count(byte[] value, IntakeCounts counts, Set<EventKey> seen) {
        DecodeResult decoded = ShakeEventCodec.decode(value);
        if (decoded.isTick()) {
            ticks++;
            return;
        }
        if (!decoded.isAccepted()) {
            counts.countRejected(decoded.reason());
            return;
        }
        ShakeEvent event = decoded.event();
        RejectReason outside = windows.check(event);
        if (outside != null) {
            counts.countRejected(outside);
        } else if (seen.add(new EventKey(event.eventIdHi, event.eventIdLo))) {
            counts.countDistinct(event);
        } else {
            counts.countDuplicate();
        }
    }

    /** Gateway ticks this counter has read (and left out of every count). */
    public long ticks() {
        return ticks;
    }

    /** An event id as a set member. */
    public record EventKey(long hi, long lo) {}
}
