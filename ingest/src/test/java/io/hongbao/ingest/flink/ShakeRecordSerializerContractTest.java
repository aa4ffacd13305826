package io.hongbao.ingest.flink;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import java.util.Arrays;
import java.util.Objects;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.testutils.DeeplyEqualsChecker;

/**
 * Flink's own serializer contract (copies, reuse, sequences, serialized copies, snapshot, duplicate) over every
 * kind of shake record: accepted, rejected, hand-made with nulls, and gateway ticks.
 */
class ShakeRecordSerializerContractTest extends SerializerTestBase<ShakeRecord> {
    ShakeRecordSerializerContractTest() {
        super(new DeeplyEqualsChecker().withCustomCheck(
                (a, b) -> a instanceof ShakeRecord && b instanceof ShakeRecord,
                (a, b, checker) -> sameRecord((ShakeRecord) a, (ShakeRecord) b)));
    }

    @Override
    protected TypeSerializer<ShakeRecord> createSerializer() {
        return ShakeRecordSerializer.INSTANCE;
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<ShakeRecord> getTypeClass() {
        return ShakeRecord.class;
    }

    @Override
    protected ShakeRecord[] getTestData() {
        ShakeEvent shake = new ShakeEvent(-1L, 2L, 100_000_001L, 9L, 3, Channel.TV, "CN-GD", 1000L, 1200L, 77L);
        byte[] garbage = {ShakeEventCodec.FORMAT_V1, 0, 42};
        byte[] tick = ShakeEventCodec.encodeTick(1_801_000_001_000L, 4);
        byte[] badTick = Arrays.copyOf(tick, 5);
        ShakeRecord handMade = new ShakeRecord();
        handMade.event = new ShakeEvent();
        return new ShakeRecord[] {
            ShakeRecord.of(DecodeResult.accepted(shake), ShakeEventCodec.encode(shake), "shakes", 3, 1234L, 99L),
            ShakeRecord.of(ShakeEventCodec.decode(garbage), garbage, "shakes", 0, 7L, 5L),
            ShakeRecord.of(ShakeEventCodec.decode(tick), tick, "shakes", 1, 8L, 6L),
            ShakeRecord.of(ShakeEventCodec.decode(badTick), badTick, "shakes", 1, 9L, 6L),
            ShakeRecord.of(ShakeEventCodec.decode(ShakeEventCodec.encodeTick(Long.MAX_VALUE, -1)), tick, null, 0, 0, 0),
            handMade,
            new ShakeRecord(),
        };
    }

    private static boolean sameRecord(ShakeRecord a, ShakeRecord b) {
        return Objects.equals(a.event, b.event) && a.rejectReason == b.rejectReason
                && Objects.equals(a.rejectDetail, b.rejectDetail) && Arrays.equals(a.raw, b.raw)
                && a.tickMs == b.tickMs && Objects.equals(a.topic, b.topic) && a.partition == b.partition
                && a.offset == b.offset && a.kafkaTimestampMs == b.kafkaTimestampMs;
    }
}
