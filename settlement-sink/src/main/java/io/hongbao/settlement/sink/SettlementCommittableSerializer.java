package io.hongbao.settlement.sink;

import io.hongbao.money.RejectCount;
import io.hongbao.money.Round;
import io.hongbao.money.SettlementRowSerializer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Committables go into the committer's checkpointed state; version 1 of their binary form. A change of the bytes is
 * a new version (and a reader kept for the old one): SettlementCommittableSerializerTest holds version 1's bytes.
 * Rounds and reject counts in it are in the money model's own form ({@link SettlementRowSerializer#writeRound},
 * without a tag).
 */
public final class SettlementCommittableSerializer implements SimpleVersionedSerializer<SettlementCommittable> {
    static final int VERSION = 1;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(SettlementCommittable c) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeBoolean(c.gid() != null);
            if (c.gid() != null) {
                out.writeUTF(c.gid());
            }
            out.writeUTF(c.sinkName());
            out.writeInt(c.subtask());
            out.writeInt(c.payouts());
            out.writeInt(c.ledgerEntries());
            out.writeLong(c.payoutFen());
            out.writeInt(c.roundConfigs().size());
            for (Round r : c.roundConfigs()) {
                SettlementRowSerializer.writeRound(r, out);
            }
            out.writeInt(c.rejectCounts().size());
            for (RejectCount r : c.rejectCounts()) {
                SettlementRowSerializer.writeRejectCount(r, out);
            }
        }
        return bytes.toByteArray();
    }

    @Override
    public SettlementCommittable deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION) {
            throw new IOException("unknown settlement committable version " + version + " (this build reads "
                    + VERSION + ")");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
            String gid = in.readBoolean() ? in.readUTF() : null;
            String sinkName = in.readUTF();
            int subtask = in.readInt();
            int payouts = in.readInt();
            int ledgerEntries = in.readInt();
            long payoutFen = in.readLong();
            int rounds = in.readInt();
            List<Round> configs = new ArrayList<>(rounds);
            for (int i = 0; i < rounds; i++) {
                configs.add(SettlementRowSerializer.readRound(in));
            }
            int rejects = in.readInt();
            List<RejectCount> counts = new ArrayList<>(rejects);
            for (int i = 0; i < rejects; i++) {
                counts.add(SettlementRowSerializer.readRejectCount(in));
            }
            return new SettlementCommittable(gid, sinkName, subtask, payouts, ledgerEntries, payoutFen, configs, counts);
        }
    }
}
