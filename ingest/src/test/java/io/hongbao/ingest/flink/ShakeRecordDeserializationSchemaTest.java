package io.hongbao.ingest.flink;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class ShakeRecordDeserializationSchemaTest {
    private final ShakeRecordDeserializationSchema schema = new ShakeRecordDeserializationSchema();

    @Test
    void shouldCarryTheEventAndItsKafkaLineage() throws Exception {
        ShakeEvent shake = new ShakeEvent(1, 2, 100_000_001L, 9, 1, Channel.IOS, "CN-SH", 1000, 1200, 3);

        byte[] value = ShakeEventCodec.encode(shake);
        List<ShakeRecord> out = deserialize(new ConsumerRecord<>("shakes", 3, 1234L, new byte[8], value));

        assertThat(out).singleElement().satisfies(r -> {
            assertThat(r.isRejected()).isFalse();
            assertThat(r.event).isEqualTo(shake);
            assertThat(r.lineage()).isEqualTo("shakes/3/1234");
            // Kept for a dead letter should validation reject the shake; validation drops it otherwise.
            assertThat(r.raw).isSameAs(value);
        });
    }

    @Test
    void shouldTurnBadBytesIntoOneRejectedRecordWithTheRawValue() throws Exception {
        byte[] garbage = {ShakeEventCodec.FORMAT_V1, 0, 42};

        List<ShakeRecord> out = deserialize(new ConsumerRecord<>("shakes", 0, 7L, null, garbage));

        assertThat(out).singleElement().satisfies(r -> {
            assertThat(r.rejectReason).isEqualTo(RejectReason.UNDECODABLE);
            assertThat(r.rejectDetail).isNotBlank();
            assertThat(r.raw).isEqualTo(garbage);
            assertThat(r.offset).isEqualTo(7L);
        });
    }

    @Test
    void shouldTurnATickIntoATickRecordNeitherShakeNorReject() throws Exception {
        List<ShakeRecord> out = deserialize(new ConsumerRecord<>("shakes", 2, 9L, null,
                ShakeEventCodec.encodeTick(1_801_000_001_000L, 5)));

        assertThat(out).singleElement().satisfies(r -> {
            assertThat(r.isTick()).isTrue();
            assertThat(r.tickMs).isEqualTo(1_801_000_001_000L);
            assertThat(r.isRejected()).isFalse();
            assertThat(r.event).isNull();
            assertThat(r.raw).isNull();
            assertThat(r.rejectDetail).isNull();
            assertThat(r.lineage()).isEqualTo("shakes/2/9");
        });
    }

    @Test
    void shouldRejectABadTickWithItsRawBytes() throws Exception {
        byte[] cut = java.util.Arrays.copyOf(ShakeEventCodec.encodeTick(1_801_000_001_000L, 5), 9);

        List<ShakeRecord> out = deserialize(new ConsumerRecord<>("shakes", 2, 10L, null, cut));

        assertThat(out).singleElement().satisfies(r -> {
            assertThat(r.isTick()).isFalse();
            assertThat(r.rejectReason).isEqualTo(RejectReason.UNDECODABLE);
            assertThat(r.raw).isEqualTo(cut);
        });
    }

    @Test
    void shouldRejectATombstone() throws Exception {
        List<ShakeRecord> out = deserialize(new ConsumerRecord<>("shakes", 0, 8L, new byte[8], null));

        assertThat(out).singleElement().satisfies(r -> {
            assertThat(r.rejectReason).isEqualTo(RejectReason.UNDECODABLE);
            assertThat(r.raw).isEmpty();
        });
    }

    @Test
    void shouldProduceRecordsWithTheirOwnSerializerNotKryo() {
        TypeInformation<ShakeRecord> type = schema.getProducedType();

        assertThat(type.createSerializer(new SerializerConfigImpl())).isSameAs(ShakeRecordSerializer.INSTANCE);
        assertThat(TypeInformation.of(ShakeEvent.class)).isInstanceOf(PojoTypeInfo.class);
    }

    private List<ShakeRecord> deserialize(ConsumerRecord<byte[], byte[]> record) throws Exception {
        List<ShakeRecord> out = new ArrayList<>();
        schema.deserialize(record, new Collector<>() {
            @Override
            public void collect(ShakeRecord r) {
                out.add(r);
            }

            @Override
            public void close() {}
        });
        return out;
    }
}
