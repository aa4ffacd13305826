package io.hongbao.jobs.payout;

/**
 * Applies a live change to a round's rules. A pure function of (rules, change, shards): every parallel
 * instance that sees the same change decides the same.
 *
 * <p>Budget rules. Raising always works; the shards' base rises with it, so shards get their share of the
 * raise at once. Lowering never takes back a shard's share (a shard may already have spent it): it comes out
 * of the sweeper's part, so the new budget must be at least the sum of the shards' shares. Before the round
 * opens (by the change's own timestamp) nothing is spent, and the shards' base may drop too.
 */
public final class RoundRulebook {
    private RoundRulebook() {}

    /** The rules after the change (null when refused) and the ledger line that records it either way. */
    public record Outcome(RoundRules rules, LedgerLine ledger) {}

    public static Outcome apply(RoundRules current, RoundChange change, int reservePerMillion) {
        String entryId = "change-" + change.changeId;
        if (change.action == null) {
            return refused(entryId, change, current == null ? 0 : current.budgetFen,
                    "unreadable control record" + (change.reason == null ? "" : ": " + change.reason));
        }
        if (current == null) {
            return refused(entryId, change, 0, "round " + change.roundId + " is not configured");
        }
        RoundRules next = current.copy();
        next.version = current.version + 1;
        switch (change.action) {
            case PAUSE -> {
                next.paused = true;
                return new Outcome(next, line(entryId, change, "PAUSED", 0, next.budgetFen, "round paused"));
            }
            case RESUME -> {
                next.paused = false;
                return new Outcome(next, line(entryId, change, "RESUMED", 0, next.budgetFen, "round resumed"));
            }
            case SET_BUDGET -> {
                long target = change.budgetFen;
                long delta = target - current.budgetFen;
                if (target <= 0) {
                    return refused(entryId, change, current.budgetFen, "budget must be positive, was " + target);
                }
                if (delta >= 0) {
                    next.budgetFen = target;
                    next.shardBaseFen = Math.max(current.shardBaseFen, target);
                    return new Outcome(next, line(entryId, change, "BUDGET_RAISED", delta, target,
                            "budget raised to " + target + " fen"));
                }
                if (change.issuedAtMs < current.startMs) {
                    next.budgetFen = target;
                    next.shardBaseFen = target;
                    return new Outcome(next, line(entryId, change, "BUDGET_LOWERED", delta, target,
                            "budget lowered to " + target + " fen before the round opened"));
                }
                long sharded = current.shardBaseFen - BudgetSplit.reserve(current.shardBaseFen, reservePerMillion);
                if (target < sharded) {
                    return refused(entryId, change, current.budgetFen, "cannot lower a running round to " + target
                            + " fen: its shards hold " + sharded + " fen that may already be paid");
                }
                next.budgetFen = target;
                return new Outcome(next, line(entryId, change, "BUDGET_LOWERED", delta, target,
                        "budget lowered to " + target + " fen out of the reserve"));
            }
            default -> throw new IllegalArgumentException("unknown action " + change.action);
        }
    }

    private static Outcome refused(String entryId, RoundChange change, long budget, String why) {
        return new Outcome(null, line(entryId, change, "CHANGE_REFUSED", 0, budget, change.action + " refused: " + why));
    }

    private static LedgerLine line(String entryId, RoundChange change, String kind, long amount, long budgetAfter,
            String detail) {
        return LedgerLine.of(entryId, change.roundId, kind, amount, budgetAfter,
                detail + (change.reason == null || kind.equals("CHANGE_REFUSED") ? "" : " (" + change.reason + ")"),
                change.issuedAtMs, change.source);
    }
}
