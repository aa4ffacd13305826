package io.hongbao.settlement.sink;

import io.hongbao.money.RejectCount;
import io.hongbao.money.Round;
import java.util.List;
import java.util.Objects;

/**
 * What one writer subtask hands to the committer for one checkpoint:
 *
 * <ul>
 *   <li>the gid of the prepared transaction holding its payouts and ledger entries (null when it wrote none),
 *       with the row counts for logs and for the lost-transaction record;</li>
 *   <li>the round configs and reject counts of the checkpoint (latest value per key). These are upserts of
 *       absolute values, applied by the committer right after {@code COMMIT PREPARED}; keeping them out of the
 *       prepared transaction means no prepared transaction ever holds a lock on a row a later transaction of the
 *       same task must update (which would deadlock the writer against its own committer).</li>
 * </ul>
 */
public final class SettlementCommittable {
    private final String gid;
    private final String sinkName;
    private final int subtask;
    private final int payouts;
    private final int ledgerEntries;
    private final long payoutFen;
    private final List<Round> roundConfigs;
    private final List<RejectCount> rejectCounts;

    public SettlementCommittable(String gid, String sinkName, int subtask, int payouts, int ledgerEntries, long payoutFen,
            List<Round> roundConfigs, List<RejectCount> rejectCounts) {
        this.gid = gid;
        this.sinkName = Objects.requireNonNull(sinkName, "sinkName");
        this.subtask = subtask;
        this.payouts = payouts;
        this.ledgerEntries = ledgerEntries;
        this.payoutFen = payoutFen;
        this.roundConfigs = List.copyOf(roundConfigs);
        this.rejectCounts = List.copyOf(rejectCounts);
    }

    /** The prepared transaction's gid, or null when this checkpoint only carries upserts. */
    public String gid() {
        return gid;
    }

    public String sinkName() {
        return sinkName;
    }

    public int subtask() {
        return subtask;
    }

    public int payouts() {
        return payouts;
    }

    public int ledgerEntries() {
        return ledgerEntries;
    }

    public long payoutFen() {
        return payoutFen;
    }

    public List<Round> roundConfigs() {
        return roundConfigs;
    }

    public List<RejectCount> rejectCounts() {
        return rejectCounts;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SettlementCommittable c && Objects.equals(gid, c.gid) && sinkName.equals(c.sinkName)
                && subtask == c.subtask && payouts == c.payouts && ledgerEntries == c.ledgerEntries
                && payoutFen == c.payoutFen && roundConfigs.equals(c.roundConfigs)
                && rejectCounts.equals(c.rejectCounts);
    }

    @Override
    public int hashCode() {
        return Objects.hash(gid, sinkName, subtask, payouts);
    }

    @Override
    public String toString() {
        return "SettlementCommittable{" + (gid == null ? "no transaction" : gid) + ", " + payouts + " payouts ("
                + payoutFen + " fen), " + ledgerEntries + " ledger entries, " + roundConfigs.size() + " round configs, "
                + rejectCounts.size() + " reject counts}";
    }
}
