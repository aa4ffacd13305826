package io.hongbao.jobs.payout;

/**
 * A live change to a round, from the control topic: pause, resume, or set the budget. A Flink POJO.
 * {@code issuedAtMs} is the control record's timestamp; with {@code source} (its topic/partition/offset) it
 * makes every parallel instance decide the change identically.
 */
public class RoundChange {
    /** What the change does. */
    public enum Action {
        PAUSE,
        RESUME,
        SET_BUDGET
    }

    public String changeId;
    public int roundId;
    public Action action;
    /** The new budget, for {@link Action#SET_BUDGET}. */
    public long budgetFen;
    public String reason;
    public long issuedAtMs;
    public String source;

    public RoundChange() {}

    public static RoundChange of(String changeId, int roundId, Action action, long budgetFen, long issuedAtMs,
            String source) {
        RoundChange c = new RoundChange();
        c.changeId = changeId;
        c.roundId = roundId;
        c.action = action;
        c.budgetFen = budgetFen;
        c.issuedAtMs = issuedAtMs;
        c.source = source;
        return c;
    }

    @Override
    public String toString() {
        return changeId + " round " + roundId + " " + action + (action == Action.SET_BUDGET ? " " + budgetFen : "");
    }
}
