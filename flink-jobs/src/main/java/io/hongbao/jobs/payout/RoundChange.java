package io.hongbao.jobs.payout;

/**
 * A live change to a round, from the control topic: pause, resume, set the budget, move the window, or add a
 * round the profile did not have. A Flink POJO.
 * {@code issuedAtMs} is the control record's timestamp (producer-set, so informational only: no rule depends
 * on it); {@code source} (its topic/partition/offset) names the record, and with the change id makes every
 * ledger entry id unique.
 */
public class RoundChange {
    /** What the change does. */
    public enum Action {
        PAUSE,
        RESUME,
        SET_BUDGET,
        /** The round's window becomes {@code [startsAtMs, endsAtMs)} from event time {@code effectiveAtMs}. */
        SET_WINDOW,
        /** A new round {@code roundId}, with the rules of {@code likeRoundId}, its own window and budget. */
        ADD_ROUND
    }

    /** For the fields an action does not use. */
    public static final long NONE = Long.MIN_VALUE;

    /** The operator's id for the change; null when the record has none that is valid. */
    public String changeId;
    public int roundId;
    public Action action;
    /** The new budget, for {@link Action#SET_BUDGET} and {@link Action#ADD_ROUND}. */
    public long budgetFen;
    /** The window, for {@link Action#SET_WINDOW} and {@link Action#ADD_ROUND} (epoch ms, start inclusive, end exclusive). */
    public long startsAtMs = NONE;
    public long endsAtMs = NONE;
    /**
     * The event time a schedule change takes effect at: shakes before it are judged by the window as it was,
     * shakes at or after it by the new one. Every boundary the change moves lies at or after it.
     */
    public long effectiveAtMs = NONE;
    /** The round whose rules (win rate, caps, tiers) an added round takes. */
    public int likeRoundId;
    /** An added round's name; null for "round &lt;id&gt;". */
    public String name;
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
        if (action == Action.SET_BUDGET || action == Action.ADD_ROUND) {
            s.append(" budget_fen=").append(budgetFen);
        }
        if (action == Action.SET_WINDOW || action == Action.ADD_ROUND) {
            s.append(" starts_at=").append(startsAtMs).append(" ends_at=").append(endsAtMs)
                    .append(" effective_at=").append(effectiveAtMs);
        }
        if (action == Action.ADD_ROUND) {
            s.append(" like_round=").append(likeRoundId);
            if (name != null) {
                s.append(" name=").append(name);
            }
        }
        if (reason != null) {
            s.append(" reason=").append(reason);
        }
        if (invalid != null) {
            s.append(" invalid=").append(invalid);
        }
        return s.toString();
    }

    /** Whether the change moves the schedule (and so waits for event time, {@code RoundChangeDesk}). */
    public boolean isScheduleChange() {
        return action == Action.SET_WINDOW || action == Action.ADD_ROUND;
    }

    @Override
    public String toString() {
        return changeId + " round " + roundId + " " + action + (action == Action.SET_BUDGET ? " " + budgetFen : "")
                + (isScheduleChange() ? " [" + startsAtMs + ", " + endsAtMs + ") from " + effectiveAtMs : "")
                + (invalid == null ? "" : " (invalid: " + invalid + ")");
    }
}
