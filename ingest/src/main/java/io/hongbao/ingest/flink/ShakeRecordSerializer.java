package io.hongbao.ingest.flink;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * Flink's serializer for {@link ShakeRecord}, written out field by field. Every shake crosses two network
 * hops ({@code keyBy} shard, {@code keyBy} count cell) and a copy per chained operator; the generic POJO
 * serializer spent a fifth of the payout job's task time there, most of it in reflective field access
 * (BENCHMARKS.md, step 1). The bytes: one flags byte saying which nullable parts follow, the event's fields
 * in declaration order (channel and reject reason as ordinals, strings as Flink's {@link StringValue} does
 * them), then the lineage, then, for a tick only ({@link #HAS_TICK}), its time. A record that is no tick has
 * exactly the bytes it had before ticks existed. The format's version is {@link Snapshot}'s. Shake
 * records are in keyed state (the decider's pending winners, the sweeper's overflow candidates), so these bytes
 * are in checkpoints and savepoints; ticks never are (they are dropped after the source).
 */
public final class ShakeRecordSerializer extends TypeSerializerSingleton<ShakeRecord> {
    private static final long serialVersionUID = 1L;
    public static final ShakeRecordSerializer INSTANCE = new ShakeRecordSerializer();

    private static final int HAS_EVENT = 1;
    private static final int HAS_REASON = 1 << 1;
    private static final int HAS_RAW = 1 << 2;
    /** Added with ticks; old bytes never have it, so they read as before. */
    private static final int HAS_TICK = 1 << 3;
    private static final Channel[] CHANNELS = Channel.values();
    private static final RejectReason[] REASONS = RejectReason.values();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public ShakeRecord createInstance() {
        return new ShakeRecord();
    }

    @Override
    public ShakeRecord copy(ShakeRecord from) {
        ShakeRecord r = new ShakeRecord();
        r.event = from.event == null ? null : from.event.copy();
        r.rejectReason = from.rejectReason;
        r.rejectDetail = from.rejectDetail;
        r.raw = from.raw == null ? null : from.raw.clone();
        r.tickMs = from.tickMs;
        r.topic = from.topic;
        r.partition = from.partition;
        r.offset = from.offset;
        r.kafkaTimestampMs = from.kafkaTimestampMs;
        return r;
    }

    @Override
    public ShakeRecord copy(ShakeRecord from, ShakeRecord reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(ShakeRecord r, DataOutputView out) throws IOException {
        out.writeByte((r.event != null ? HAS_EVENT : 0) | (r.rejectReason != null ? HAS_REASON : 0)
                | (r.raw != null ? HAS_RAW : 0) | (r.tickMs != 0 ? HAS_TICK : 0));
        ShakeEvent e = r.event;
        if (e != null) {
            out.writeLong(e.eventIdHi);
            out.writeLong(e.eventIdLo);
            out.writeLong(e.userId);
            out.writeLong(e.deviceId);
            out.writeInt(e.roundId);
            out.writeByte(e.channel == null ? -1 : e.channel.ordinal());
            StringValue.writeString(e.region, out);
            out.writeLong(e.clientTsMs);
            out.writeLong(e.gatewayTsMs);
            out.writeLong(e.deviceSeq);
        }
        if (r.rejectReason != null) {
            out.writeByte(r.rejectReason.ordinal());
        }
        StringValue.writeString(r.rejectDetail, out);
        if (r.raw != null) {
            out.writeInt(r.raw.length);
            out.write(r.raw);
        }
        StringValue.writeString(r.topic, out);
        out.writeInt(r.partition);
        out.writeLong(r.offset);
        out.writeLong(r.kafkaTimestampMs);
        if (r.tickMs != 0) {
            out.writeLong(r.tickMs);
        }
    }

    @Override
    public ShakeRecord deserialize(DataInputView in) throws IOException {
        int flags = in.readByte();
        ShakeRecord r = new ShakeRecord();
        if ((flags & HAS_EVENT) != 0) {
            ShakeEvent e = new ShakeEvent();
            e.eventIdHi = in.readLong();
            e.eventIdLo = in.readLong();
            e.userId = in.readLong();
            e.deviceId = in.readLong();
            e.roundId = in.readInt();
            int channel = in.readByte();
            e.channel = channel < 0 ? null : CHANNELS[channel];
            e.region = StringValue.readString(in);
            e.clientTsMs = in.readLong();
            e.gatewayTsMs = in.readLong();
            e.deviceSeq = in.readLong();
            r.event = e;
        }
        if ((flags & HAS_REASON) != 0) {
            r.rejectReason = REASONS[in.readByte()];
        }
        r.rejectDetail = StringValue.readString(in);
        if ((flags & HAS_RAW) != 0) {
            byte[] raw = new byte[in.readInt()];
            in.readFully(raw);
            r.raw = raw;
        }
        r.topic = StringValue.readString(in);
        r.partition = in.readInt();
        r.offset = in.readLong();
        r.kafkaTimestampMs = in.readLong();
        if ((flags & HAS_TICK) != 0) {
            r.tickMs = in.readLong();
        }
        return r;
    }

    @Override
    public ShakeRecord deserialize(ShakeRecord reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<ShakeRecord> snapshotConfiguration() {
        return new Snapshot();
    }

    /**
     * The snapshot checkpoints hold next to the bytes; its version is the format's. Version 3 is the format above
     * (the tick flag included: older bytes never set it and read the same). It is 3 because the snapshot was a
     * {@code SimpleTypeSerializerSnapshot} before, which wrote its own version 3 and no payload under this class
     * name: every checkpoint taken so far reads as format 3. A change of the bytes is a new version here, readers
     * for the old ones, and new golden files for {@code ShakeRecordSerializerUpgradeTest}.
     */
    public static final class Snapshot implements TypeSerializerSnapshot<ShakeRecord> {
        static final int FORMAT_VERSION = 3;

        @Override
        public int getCurrentVersion() {
            return FORMAT_VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) {
            // the version says it all: the format has no parameters
        }

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader) throws IOException {
            if (readVersion != FORMAT_VERSION) {
                throw new IOException("ShakeRecord format version " + readVersion + " is unknown to this build, which "
                        + "reads version " + FORMAT_VERSION);
            }
        }

        @Override
        public TypeSerializer<ShakeRecord> restoreSerializer() {
            return INSTANCE;
        }

        @Override
        public TypeSerializerSchemaCompatibility<ShakeRecord> resolveSchemaCompatibility(
                TypeSerializerSnapshot<ShakeRecord> oldSnapshot) {
            return oldSnapshot instanceof Snapshot && oldSnapshot.getCurrentVersion() == FORMAT_VERSION
                    ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
