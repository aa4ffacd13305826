package io.hongbao.ingest.generator;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends generated records to Kafka with the idempotent producer and {@code acks=all}, so a broker hiccup can
 * neither lose nor duplicate a record and the manifest stays exact. The first send failure is kept and
 * rethrown by {@link #close()}: a run that lost a record must not pass for a good one. Shakes go to the
 * partition of their key (the user id); ticks to the partition they name.
 */
public final class KafkaShakeProducer implements Consumer<GeneratedRecord>, AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final AtomicReference<Exception> firstFailure = new AtomicReference<>();

    public KafkaShakeProducer(Properties clientProps, String topic) {
        Properties props = new Properties();
        props.putAll(clientProps);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "10");
        props.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
        props.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "hongbao-generator");
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
    }

    @Override
    public void accept(GeneratedRecord record) {
        if (firstFailure.get() != null) {
            throw new IllegalStateException("Kafka send failed; stopping", firstFailure.get());
        }
        ProducerRecord<byte[], byte[]> out = record.partition() == GeneratedRecord.BY_KEY
                ? new ProducerRecord<>(topic, record.key(), record.value())
                : new ProducerRecord<>(topic, record.partition(), record.key(), record.value());
        producer.send(out, (metadata, error) -> {
            if (error != null) {
                firstFailure.compareAndSet(null, error);
            }
        });
    }

    /** The topic's partition count as the brokers report it: what {@code withTicks} needs. */
    public int partitions() {
        return producer.partitionsFor(topic).size();
    }

    @Override
    public void close() {
        producer.flush();
        producer.close(Duration.ofSeconds(30));
        Exception failure = firstFailure.get();
        if (failure != null) {
            throw new IllegalStateException("Kafka did not acknowledge every record: " + failure, failure);
        }
    }
}
