package io.hongbao.settlement.sink;

import io.hongbao.settlement.SettlementRecord.RejectCount;
import io.hongbao.settlement.SettlementRecord.RoundConfig;
import io.hongbao.settlement.SettlementRecord.Tier;
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
            for (RoundConfig r : c.roundConfigs()) {
                out.writeInt(r.roundId);
                out.writeUTF(r.name);
                out.writeLong(r.startsAtMs);
                out.writeLong(r.endsAtMs);
                out.writeLong(r.budgetFen);
                out.writeInt(r.winPerMillion);
                out.writeInt(r.winsPerRound);
                out.writeLong(r.fenPerGala);
                out.writeBoolean(r.paused);
                out.writeInt(r.version);
                out.writeInt(r.tiers.size());
                for (Tier t : r.tiers) {
                    out.writeInt(t.tierId);
                    out.writeUTF(t.name);
                    out.writeLong(t.minFen);
                    out.writeLong(t.maxFen);
                    out.writeLong(t.countCap);
                    out.writeInt(t.weight);
                }
            }
            out.writeInt(c.rejectCounts().size());
            for (RejectCount r : c.rejectCounts()) {
                out.writeUTF(r.reason);
                out.writeLong(r.records);
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
            List<RoundConfig> configs = new ArrayList<>(rounds);
            for (int i = 0; i < rounds; i++) {
                RoundConfig r = new RoundConfig();
                r.roundId = in.readInt();
                r.name = in.readUTF();
                r.startsAtMs = in.readLong();
                r.endsAtMs = in.readLong();
                r.budgetFen = in.readLong();
                r.winPerMillion = in.readInt();
                r.winsPerRound = in.readInt();
                r.fenPerGala = in.readLong();
                r.paused = in.readBoolean();
                r.version = in.readInt();
                int tiers = in.readInt();
                r.tiers = new ArrayList<>(tiers);
                for (int j = 0; j < tiers; j++) {
                    r.tiers.add(Tier.of(in.readInt(), in.readUTF(), in.readLong(), in.readLong(), in.readLong(),
                            in.readInt()));
                }
                configs.add(r);
            }
            int rejects = in.readInt();
            List<RejectCount> counts = new ArrayList<>(rejects);
            for (int i = 0; i < rejects; i++) {
                RejectCount r = new RejectCount();
                r.reason = in.readUTF();
                r.records = in.readLong();
                counts.add(r);
            }
            return new SettlementCommittable(gid, sinkName, subtask, payouts, ledgerEntries, payoutFen, configs, counts);
        }
    }
}
