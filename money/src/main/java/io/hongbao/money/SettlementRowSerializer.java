package io.hongbao.money;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * Flink's serializer for the settlement rows, written out field by field: the union {@link SettlementRow} (what
 * the sink takes) and each kind on its own (what the decider and the sweeper emit, and the rounds in broadcast
 * state) share one form, so a row crosses from one to the other without a conversion. The rows are immutable:
 * a copy is the row itself.
 *
 * <p>The bytes: a tag byte naming the kind, then the fields in declaration order. A payout's and a ledger entry's
 * strings are written as Flink's {@link StringValue} does them (null allowed); a round's, its tiers' and a reject
 * count's with {@link DataOutput#writeUTF} (never null), the form the committable keeps them in
 * ({@link #writeRound}, {@link #writeRejectCount}).
 */
public final class SettlementRowSerializer<T extends SettlementRow> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;

    private static final int PAYOUT = 1;
    private static final int LEDGER_ENTRY = 2;
    private static final int REJECT_COUNT = 3;
    private static final int ROUND = 4;

    private final Class<T> type;

    public SettlementRowSerializer(Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
    }

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return this; // stateless
    }

    /** A row of the kind with every field zero or empty (the union's is a reject count). */
    @Override
    public T createInstance() {
        SettlementRow blank;
        if (type == Payout.class) {
            blank = new Payout(0, 0, 0, 0, null, null, 0, 0, 0);
        } else if (type == LedgerEntry.class) {
            blank = new LedgerEntry(null, 0, null, 0, 0, null, 0, null);
        } else if (type == Round.class) {
            blank = new Round(0, "", 0, 0, 0, 0, 0, 0, false, 0, List.of());
        } else {
            blank = new RejectCount("", 0);
        }
        return type.cast(blank);
    }

    @Override
    public T copy(T from) {
        return from;
    }

    @Override
    public T copy(T from, T reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(T row, DataOutputView out) throws IOException {
        if (row instanceof Payout p) {
            out.writeByte(PAYOUT);
            out.writeInt(p.roundId());
            out.writeInt(p.tierId());
            out.writeLong(p.userId());
            out.writeLong(p.amountFen());
            StringValue.writeString(p.eventId(), out);
            StringValue.writeString(p.kafkaTopic(), out);
            out.writeInt(p.kafkaPartition());
            out.writeLong(p.kafkaOffset());
            out.writeLong(p.shakeEventTimeMs());
        } else if (row instanceof LedgerEntry l) {
            out.writeByte(LEDGER_ENTRY);
            StringValue.writeString(l.entryId(), out);
            out.writeInt(l.roundId());
            StringValue.writeString(l.kind(), out);
            out.writeLong(l.amountFen());
            out.writeLong(l.budgetFenAfter());
            StringValue.writeString(l.detail(), out);
            out.writeLong(l.effectiveAtMs());
            StringValue.writeString(l.source(), out);
        } else if (row instanceof RejectCount c) {
            out.writeByte(REJECT_COUNT);
            writeRejectCount(c, out);
        } else {
            out.writeByte(ROUND);
            writeRound((Round) row, out);
        }
    }

    @Override
    public T deserialize(DataInputView in) throws IOException {
        int tag = in.readByte();
        SettlementRow row = switch (tag) {
            case PAYOUT -> new Payout(in.readInt(), in.readInt(), in.readLong(), in.readLong(),
                    StringValue.readString(in), StringValue.readString(in), in.readInt(), in.readLong(), in.readLong());
            case LEDGER_ENTRY -> new LedgerEntry(StringValue.readString(in), in.readInt(), StringValue.readString(in),
                    in.readLong(), in.readLong(), StringValue.readString(in), in.readLong(), StringValue.readString(in));
            case REJECT_COUNT -> readRejectCount(in);
            case ROUND -> readRound(in);
            default -> throw new IOException("unknown settlement row tag " + tag);
        };
        if (!type.isInstance(row)) {
            throw new IOException("read a " + row.getClass().getSimpleName() + " where a " + type.getSimpleName()
                    + " was written");
        }
        return type.cast(row);
    }

    @Override
    public T deserialize(T reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    /** A round and its tiers, without a tag. */
    public static void writeRound(Round r, DataOutput out) throws IOException {
        out.writeInt(r.roundId());
        out.writeUTF(r.name());
        out.writeLong(r.startsAtMs());
        out.writeLong(r.endsAtMs());
        out.writeLong(r.budgetFen());
        out.writeInt(r.winPerMillion());
        out.writeInt(r.winsPerRound());
        out.writeLong(r.fenPerGala());
        out.writeBoolean(r.paused());
        out.writeInt(r.version());
        out.writeInt(r.tiers().size());
        for (Tier t : r.tiers()) {
            out.writeInt(t.tierId());
            out.writeUTF(t.name());
            out.writeLong(t.minFen());
            out.writeLong(t.maxFen());
            out.writeLong(t.countCap());
            out.writeInt(t.weight());
        }
    }

    /** What {@link #writeRound} wrote. */
    public static Round readRound(DataInput in) throws IOException {
        int roundId = in.readInt();
        String name = in.readUTF();
        long startsAtMs = in.readLong();
        long endsAtMs = in.readLong();
        long budgetFen = in.readLong();
        int winPerMillion = in.readInt();
        int winsPerRound = in.readInt();
        long fenPerGala = in.readLong();
        boolean paused = in.readBoolean();
        int version = in.readInt();
        int n = in.readInt();
        List<Tier> tiers = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            tiers.add(new Tier(in.readInt(), in.readUTF(), in.readLong(), in.readLong(), in.readLong(), in.readInt()));
        }
        return new Round(roundId, name, startsAtMs, endsAtMs, budgetFen, winPerMillion, winsPerRound, fenPerGala,
                paused, version, tiers);
    }

    /** A reject count, without a tag. */
    public static void writeRejectCount(RejectCount c, DataOutput out) throws IOException {
        out.writeUTF(c.reason());
        out.writeLong(c.records());
    }

    /** What {@link #writeRejectCount} wrote. */
    public static RejectCount readRejectCount(DataInput in) throws IOException {
        return new RejectCount(in.readUTF(), in.readLong());
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof SettlementRowSerializer<?> other && other.type == type;
    }

    @Override
    public int hashCode() {
        return type.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return new Snapshot<>(type);
    }

    /**
     * Version 1 of the format above; names the kind it serializes. A later format bumps the version and keeps
     * reading this one.
     */
    public static final class Snapshot<T extends SettlementRow> implements TypeSerializerSnapshot<T> {
        private static final int VERSION = 1;
        private Class<T> type;

        /** For Flink, which reads the kind with {@link #readSnapshot}. */
        public Snapshot() {}

        Snapshot(Class<T> type) {
            this.type = type;
        }

        @Override
        public int getCurrentVersion() {
            return VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) throws IOException {
            out.writeUTF(type.getName());
        }

        @Override
        @SuppressWarnings("unchecked")
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader) throws IOException {
            if (readVersion != VERSION) {
                throw new IOException("unknown settlement row serializer version " + readVersion + " (this build "
                        + "reads " + VERSION + ")");
            }
            String name = in.readUTF();
            try {
                type = (Class<T>) Class.forName(name, false, classLoader).asSubclass(SettlementRow.class);
            } catch (ClassNotFoundException | ClassCastException e) {
                throw new IOException("settlement row serializer snapshot names " + name + ", no settlement row", e);
            }
        }

        @Override
        public TypeSerializer<T> restoreSerializer() {
            return new SettlementRowSerializer<>(type);
        }

        @Override
        public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> old) {
            return old instanceof Snapshot<?> s && s.type == type
                    ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
