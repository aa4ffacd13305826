package io.hongbao.bench;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** The job's own deserializer, with a {@link Probe#in()} per Kafka record: the start of the clock. */
public final class TimedDeserializer<T> implements KafkaRecordDeserializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final KafkaRecordDeserializationSchema<T> delegate;
    private final String run;
    private transient Probe probe;

    public TimedDeserializer(KafkaRecordDeserializationSchema<T> delegate, String run) {
        this.delegate = delegate;
        this.run = run;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
        delegate.open(context);
        probe = Probe.named(run);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<T> out) throws java.io.IOException {
        probe.in();
        delegate.deserialize(record, out);
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return delegate.getProducedType();
    }
}
