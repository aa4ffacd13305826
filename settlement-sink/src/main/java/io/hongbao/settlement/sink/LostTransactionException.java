package io.hongbao.settlement.sink;

/**
 * A committable's prepared transaction is neither prepared any more nor committed: its rows are lost. Never
 * expected (only a manual {@code ROLLBACK PREPARED} or a bug can do it). The committer logs it as an error,
 * records it in {@code settlement_lost_transaction} (reconciliation fails on it) and reports it to Flink as
 * a failure with a known reason.
 */
public final class LostTransactionException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String gid;

    public LostTransactionException(SettlementCommittable committable) {
        super("prepared transaction " + committable.gid() + " of sink " + committable.sinkName() + " is lost: not in "
                + "pg_prepared_xacts and its commit marker is not in settlement_commit (" + committable.payouts()
                + " payouts, " + committable.payoutFen() + " fen, " + committable.ledgerEntries() + " ledger entries)");
        this.gid = committable.gid();
    }

    public String gid() {
        return gid;
    }
}
