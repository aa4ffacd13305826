package io.hongbao.jobs.payout;

/**
 * What the job remembers of a change id once a record used it (applied or refused): enough to tell a resend of
 * the same change from another change under the same id. Kept in broadcast state, so every parallel instance
 * holds the same receipts and they are in every checkpoint. A Flink POJO.
 */
public class ChangeReceipt {
    /** {@link RoundChange#content()} of the first record with this id. */
    public String content;
    /** The first record's topic/partition/offset. */
    public String source;
    /** The kind of the ledger line the first record wrote (e.g. BUDGET_RAISED, CHANGE_REFUSED). */
    public String kind;

    public ChangeReceipt() {}

    public static ChangeReceipt of(String content, String source, String kind) {
        ChangeReceipt r = new ChangeReceipt();
        r.content = content;
        r.source = source;
        r.kind = kind;
        return r;
    }

    @Override
    public String toString() {
        return kind + " at " + source + " (" + content + ")";
    }
}
