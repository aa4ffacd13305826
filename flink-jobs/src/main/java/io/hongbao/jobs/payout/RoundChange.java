package io.hongbao.jobs.payout;

/**
 * A live change to a round, from the control topic: pause, resume, or set the budget. A Flink POJO.
 * {@code issuedAtMs} is the control record's timestamp (producer-set, so informational only: no rule depends
 * on it); {@code source} (its topic/partition/offset) names the record, and with the change id makes every
 * ledger entry id unique.
 */
public class RoundChange {
    /** What the change does. */
    public enum Action {
        PAUSE,
        RESUME,
        SET_BUDGET
    }

    /** The operator's id for the change; null when the record has none that is valid. */
    public String changeId;
    public int roundId;
    public Action action;
    /** The new budget, for {@link Action#SET_BUDGET}. */
    public long budgetFen;
    public String reason;
    public long issuedAtMs;
    public String source;
    /** Why the record itself is refused (unreadable, oversized, a field invalid); null for a well-formed change. */
    public String invalid;

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

    /**
     * What the change asks for, canonically: a repeated change id with the same content is the same change
     * resent. The timestamp and the source are not content (a resend has new ones).
     */
    public String content() {
        StringBuilder s = new StringBuilder().append("round_id=").append(roundId).append(" action=").append(action);
        if (action == Action.SET_BUDGET) {
            s.append(" budget_fen=").append(budgetFen);
        }
        if (reason != null) {
            s.append(" reason=").append(reason);
        }
        if (invalid != null) {
            s.append(" invalid=").append(invalid);
        }
        return s.toString();
    }

    @Override
    public String toString() {
        return changeId + " round " + roundId + " " + action + (action == Action.SET_BUDGET ? " " + budgetFen : "")
                + (invalid == null ? "" : " (invalid: " + invalid + ")");
    }
}
