package io.hongbao.ingest.flink;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class ShakeRecordSerializerTest {
    private static final ShakeRecordSerializer SERIALIZER = ShakeRecordSerializer.INSTANCE;
    private static final ShakeEvent SHAKE =
            new ShakeEvent(-1L, 2L, 100_000_001L, 9L, 3, Channel.MINI_PROGRAM, "CN-SH", 1000L, 1200L, 77L);

    @Test
    void shouldRoundTripAnAcceptedShakeWithItsLineage() throws IOException {
        ShakeRecord r = ShakeRecord.of(DecodeResult.accepted(SHAKE), ShakeEventCodec.encode(SHAKE), "shakes", 3,
                1234L, 99L);

        ShakeRecord back = roundTrip(r);

        assertThat(back).usingRecursiveComparison().isEqualTo(r);
        assertThat(back.event).isEqualTo(SHAKE).isNotSameAs(SHAKE);
        assertThat(back.raw).isNull();
    }

    @Test
    void shouldRoundTripARejectedRecordWithItsRawBytesAndReason() throws IOException {
        byte[] garbage = {ShakeEventCodec.FORMAT_V1, 0, 42};
        ShakeRecord r = ShakeRecord.of(ShakeEventCodec.decode(garbage), garbage, "shakes", 0, 7L, 5L);

        ShakeRecord back = roundTrip(r);

        assertThat(back.rejectReason).isEqualTo(RejectReason.UNDECODABLE);
        assertThat(back.rejectDetail).isEqualTo(r.rejectDetail).isNotEmpty();
        assertThat(back.raw).containsExactly(garbage);
        assertThat(back.event).isNull();
        assertThat(back.lineage()).isEqualTo("shakes/0/7");
    }

    @Test
    void shouldRoundTripATickWithItsTimeAndLineage() throws IOException {
        byte[] value = ShakeEventCodec.encodeTick(1_801_000_001_000L, 7);
        ShakeRecord r = ShakeRecord.of(ShakeEventCodec.decode(value), value, "shakes", 2, 55L, 6L);

        ShakeRecord back = roundTrip(r);

        assertThat(back).usingRecursiveComparison().isEqualTo(r);
        assertThat(back.isTick()).isTrue();
        assertThat(back.tickMs).isEqualTo(1_801_000_001_000L);
        assertThat(back.isRejected()).isFalse();
        assertThat(back.event).isNull();
        assertThat(back.raw).isNull();
        assertThat(SERIALIZER.copy(r)).usingRecursiveComparison().isEqualTo(r);
    }

    /** A tick is the old bytes of a bare record with one more flag bit and its time after the lineage. */
    @Test
    void shouldWriteATickAsANewFlagBitAndItsTimeAtTheEnd() throws IOException {
        ShakeRecord tick = new ShakeRecord();
        tick.topic = "shakes";
        tick.partition = 1;
        tick.offset = 2;
        tick.kafkaTimestampMs = 3;
        tick.tickMs = 0x0102030405060708L;

        assertThat(hex(tick)).isEqualTo("08" + "00" // flags, null reject detail
                + "077368616b6573" + "00000001" + "0000000000000002" + "0000000000000003" + "0102030405060708");
    }

    @Test
    void shouldKeepNullsOfAHandMadeRecord() throws IOException {
        ShakeRecord r = new ShakeRecord();
        r.event = new ShakeEvent();

        ShakeRecord back = roundTrip(r);

        assertThat(back).usingRecursiveComparison().isEqualTo(r);
        assertThat(back.event.channel).isNull();
        assertThat(back.event.region).isNull();
        assertThat(back.topic).isNull();
    }

    @Test
    void shouldCopyDeeplySoOperatorsNeverShareAnEvent() {
        byte[] raw = {1, 2, 3};
        ShakeRecord r = ShakeRecord.of(DecodeResult.accepted(SHAKE), null, "shakes", 1, 2L, 3L);
        r.raw = raw;

        ShakeRecord copy = SERIALIZER.copy(r);
        copy.event.eventIdLo = 42;
        copy.raw[0] = 9;

        assertThat(r.event.eventIdLo).isEqualTo(2L);
        assertThat(r.raw[0]).isEqualTo((byte) 1);
    }

    @Test
    void shouldRestoreAsTheSameSerializerFromItsSnapshot() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        SERIALIZER.snapshotConfiguration().writeSnapshot(out);
        ShakeRecordSerializer.Snapshot restored = new ShakeRecordSerializer.Snapshot();
        restored.readSnapshot(SERIALIZER.snapshotConfiguration().getCurrentVersion(),
                new DataInputDeserializer(out.getCopyOfBuffer()),
                getClass().getClassLoader());

        TypeSerializerSchemaCompatibility<ShakeRecord> compatibility =
                SERIALIZER.snapshotConfiguration().resolveSchemaCompatibility(restored);
        assertThat(compatibility.isCompatibleAsIs()).isTrue();
        assertThat(restored.restoreSerializer()).isSameAs(SERIALIZER);
    }

    /**
     * The bytes of records that are no ticks, as the serializer wrote them before ticks existed: they are in
     * checkpoints and savepoints (the sweeper's overflow candidates), so they must never change.
     */
    @Test
    void shouldWriteNonTickRecordsExactlyAsBeforeTicks() throws IOException {
        ShakeRecord accepted = ShakeRecord.of(DecodeResult.accepted(SHAKE), ShakeEventCodec.encode(SHAKE), "shakes",
                3, 1234L, 99L);
        byte[] garbage = {ShakeEventCodec.FORMAT_V1, 0, 42};
        ShakeRecord rejected = ShakeRecord.of(ShakeEventCodec.decode(garbage), garbage, "shakes", 0, 7L, 5L);
        ShakeRecord handMade = new ShakeRecord();
        handMade.event = new ShakeEvent();

        assertThat(hex(accepted)).isEqualTo(ACCEPTED_BYTES);
        assertThat(hex(rejected)).isEqualTo(REJECTED_BYTES);
        assertThat(hex(handMade)).isEqualTo(HAND_MADE_BYTES);
    }

    private static final String ACCEPTED_BYTES = "01ffffffffffffffff00000000000000020000000005f5e1010000000000000009000000030406434e2d534800000000000003e800000000000004b0000000000000004d00077368616b65730000000300000000000004d20000000000000063";
    private static final String REJECTED_BYTES = "06003c70726f746f6275663a2050726f746f636f6c206d65737361676520636f6e7461696e656420616e20696e76616c69642074616720287a65726f292e0000000301002a077368616b65730000000000000000000000070000000000000005";
    private static final String HAND_MADE_BYTES = "01000000000000000000000000000000000000000000000000000000000000000000000000ff0000000000000000000000000000000000ffffffffffffffff00000000000000000000000000000000000000000000";

    private static String hex(ShakeRecord r) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        SERIALIZER.serialize(r, out);
        return java.util.HexFormat.of().formatHex(out.getCopyOfBuffer());
    }

    private static ShakeRecord roundTrip(ShakeRecord r) throws IOException {
        TypeSerializer<ShakeRecord> s = SERIALIZER.duplicate();
        DataOutputSerializer out = new DataOutputSerializer(64);
        s.serialize(r, out);
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        ShakeRecord back = s.deserialize(in);
        assertThat(in.available()).as("every byte read back").isZero();
        // The byte-for-byte copy path (used when records are re-partitioned without deserializing) agrees.
        DataOutputSerializer copied = new DataOutputSerializer(64);
        s.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
        assertThat(copied.getCopyOfBuffer()).containsExactly(out.getCopyOfBuffer());
        return back;
    }
}
