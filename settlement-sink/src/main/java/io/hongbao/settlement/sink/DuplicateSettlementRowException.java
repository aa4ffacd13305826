package io.hongbao.settlement.sink;

import java.io.IOException;

/**
 * A payout id, (round, event) pair or ledger entry id reached the sink a second time. The job decides each
 * payout once and replays only uncommitted work, so this is a bug upstream: the sink fails instead of
 * ignoring it.
 */
public final class DuplicateSettlementRowException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String rowId;

    public DuplicateSettlementRowException(String rowId, String message, Throwable cause) {
        super(message, cause);
        this.rowId = rowId;
    }

    /** The payout id (or ledger entry id) written twice, when the database named it. */
    public String rowId() {
        return rowId;
    }
}
