package io.hongbao.jobs.payout;

/**
 * One line of a round's ledger: a config change applied or refused, or the round's sweep. Deterministic
 * {@code entryId}, so a replay writes the same line. A Flink POJO.
 */
public class LedgerLine {
    public String entryId;
    public int roundId;
    /** CONFIGURED, BUDGET_RAISED, BUDGET_LOWERED, PAUSED, RESUMED, CHANGE_REFUSED, CHANGE_REPEATED, SWEPT. */
    public String kind;
    /** Signed change to the budget in fen; 0 when the budget does not change. */
    public long amountFen;
    public long budgetAfterFen;
    public String detail;
    public long effectiveAtMs;
    public String source;

    public LedgerLine() {}

    public static LedgerLine of(String entryId, int roundId, String kind, long amountFen, long budgetAfterFen,
            String detail, long effectiveAtMs, String source) {
        LedgerLine l = new LedgerLine();
        l.entryId = entryId;
        l.roundId = roundId;
        l.kind = kind;
        l.amountFen = amountFen;
        l.budgetAfterFen = budgetAfterFen;
        l.detail = detail;
        l.effectiveAtMs = effectiveAtMs;
        l.source = source;
        return l;
    }

    @Override
    public String toString() {
        return entryId + " round " + roundId + " " + kind + " " + amountFen + " -> " + budgetAfterFen + " (" + detail + ")";
    }
}
