package io.hongbao.ingest.flink;

import io.hongbao.ingest.event.ShakeEventCodec;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads shake events for a {@code KafkaSource}. Every Kafka record yields exactly one {@link ShakeRecord}:
 * bytes that do not decode become a rejected record with a reason, never an exception, because one bad
 * record must not restart a job that pays money. Every shake keeps its original bytes ({@link ShakeRecord#raw})
 * for its dead letter, until the payout job's identity check drops them. A gateway tick becomes a tick record
 * ({@link ShakeRecord#isTick()}), which the watermark strategy reads and the job drops right after the source.
 */
public class ShakeRecordDeserializationSchema implements KafkaRecordDeserializationSchema<ShakeRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ShakeRecord> out) {
        byte[] value = record.value();
        out.collect(ShakeRecord.read(ShakeEventCodec.decode(value), value, record.topic(), record.partition(),
                record.offset(), record.timestamp()));
    }

    @Override
    public TypeInformation<ShakeRecord> getProducedType() {
        return TypeInformation.of(ShakeRecord.class);
    }
}
