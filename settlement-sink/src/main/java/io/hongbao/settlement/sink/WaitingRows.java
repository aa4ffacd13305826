package io.hongbao.settlement.sink;

import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import io.hongbao.money.SettlementRow;
import io.hongbao.money.SettlementRowSerializer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;

/**
 * A writer subtask's state: the rows of an added round that could not be written in the checkpoint they came in,
 * because the round was not visible to this subtask's transaction yet (its ROUND_ADDED line, or the round itself,
 * sits in another subtask's transaction of the same checkpoint, committed only when that checkpoint completes).
 * They are written in a later checkpoint's transaction, once the round is there: the configs of a round to add
 * ({@code rounds}: its first version is added, the rest applied by the committer) and payouts of a round not
 * visible yet. Each carries how many checkpoints it has waited; after {@link SettlementWriter#ROUND_WAIT_CHECKPOINTS}
 * a payout is quarantined and a round stops the job (see the writer).
 */
public record WaitingRows(List<Waiting<Round>> rounds, List<Waiting<Payout>> payouts) {
    public WaitingRows {
        rounds = List.copyOf(rounds);
        payouts = List.copyOf(payouts);
    }

    /** A row and the checkpoints it has waited for its round. */
    public record Waiting<R>(R row, int checkpoints) {}

    public boolean isEmpty() {
        return rounds.isEmpty() && payouts.isEmpty();
    }

    /**
     * Version 2 (version 1 was the writer without state: no bytes). Rows in the money model's own form
     * ({@link SettlementRowSerializer}, with its tag).
     */
    static final class Serializer implements SimpleVersionedSerializer<WaitingRows> {
        static final Serializer INSTANCE = new Serializer();
        private static final SettlementRowSerializer<SettlementRow> ROWS = new SettlementRowSerializer<>(SettlementRow.class);

        @Override
        public int getVersion() {
            return 2;
        }

        @Override
        public byte[] serialize(WaitingRows state) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                DataOutputViewStreamWrapper view = new DataOutputViewStreamWrapper(out);
                out.writeInt(state.rounds().size());
                for (Waiting<Round> w : state.rounds()) {
                    out.writeInt(w.checkpoints());
                    ROWS.serialize(w.row(), view);
                }
                out.writeInt(state.payouts().size());
                for (Waiting<Payout> w : state.payouts()) {
                    out.writeInt(w.checkpoints());
                    ROWS.serialize(w.row(), view);
                }
            }
            return bytes.toByteArray();
        }

        @Override
        public WaitingRows deserialize(int version, byte[] serialized) throws IOException {
            if (version == 1) {
                return new WaitingRows(List.of(), List.of()); // the stateless writer's (never written, in fact)
            }
            if (version != 2) {
                throw new IOException("unknown settlement writer state version " + version + " (this build reads 1, 2)");
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
                DataInputViewStreamWrapper view = new DataInputViewStreamWrapper(in);
                int n = in.readInt();
                List<Waiting<Round>> rounds = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    int waited = in.readInt();
                    rounds.add(new Waiting<>((Round) ROWS.deserialize(view), waited));
                }
                n = in.readInt();
                List<Waiting<Payout>> payouts = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    int waited = in.readInt();
                    payouts.add(new Waiting<>((Payout) ROWS.deserialize(view), waited));
                }
                return new WaitingRows(rounds, payouts);
            }
        }
    }
}
