package io.hongbao.jobs.payout;

import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Round;
import java.util.regex.Pattern;

/**
 * Applies a live change to a round's rules. A pure function of (rules, earlier use of the change id, change,
 * reserve): every parallel instance that sees the same changes in the same order decides the same.
 *
 * <p>Change ids. The first record with a change id consumes it, applied or refused, and writes ledger entry
 * {@code change-<id>}; the caller remembers the {@link Outcome#receipt() receipt}. A later record with the same id
 * and the same {@link RoundChange#content() content} is a resend: nothing is applied and its line is
 * {@code change-<id>/repeat/<source>} (CHANGE_REPEATED). With other content it is refused as
 * {@code change-<id>/conflict/<source>}. A record without a valid id writes {@code change-<source>}. Ids are
 * {@code [A-Za-z0-9._-]{1,64}} and sources are {@code topic/partition/offset}: a '/' can only come from the
 * job, so none of these can equal another, and all start with {@code change-}, unlike the job's own
 * {@code configured-r…} and {@code swept-r…} lines.
 *
 * <p>Budget rules. Raising always works (up to {@link #MAX_BUDGET_FEN}); the shards' base rises with it, so
 * shards get their share of the raise at once. Lowering never takes back a shard's share (a shard may already
 * have spent it, and the rulebook cannot see what the shards spent): it comes out of the sweeper's reserve, so
 * the new budget must be at least the shards' part of the shard base. No exception for "before the round
 * opened": the only clock the rulebook could use is the record's own timestamp, which the producer sets.
 */
public final class RoundRulebook {
    /**
     * The largest budget a change may set: the whole campaign's pool (1.5e9 yuan, design/SYSTEM.md). Anything
     * above it is a typo (a stray exponent, a figure in li instead of fen), not a sponsor.
     */
    public static final long MAX_BUDGET_FEN = 150_000_000_000L;
    public static final int MAX_CHANGE_ID_LENGTH = 64;
    public static final String CHANGE_ID_CHARSET = "[A-Za-z0-9._-]";
    private static final Pattern CHANGE_ID = Pattern.compile(CHANGE_ID_CHARSET + "{1," + MAX_CHANGE_ID_LENGTH + "}");
    /** Ledger details are cut at this many characters (a control record is at most 64 KiB). */
    static final int MAX_DETAIL_CHARS = 1_000;

    private RoundRulebook() {}

    /**
     * The rules after the change (null when nothing is applied), the ledger line that records it either way,
     * and the receipt to remember under the change id (null when there is nothing new to remember: a resend, a
     * conflicting reuse, or no valid id).
     */
    public record Outcome(RoundInForce rules, LedgerEntry ledger, ChangeReceipt receipt) {}

    public static boolean validChangeId(String changeId) {
        return changeId != null && CHANGE_ID.matcher(changeId).matches();
    }

    /**
     * As {@link #apply(RoundInForce, ChangeReceipt, RoundChange, int)} for a change id never seen before. Without
     * the receipts a resent change id writes its entry id twice: callers in the job must pass them.
     */
    public static Outcome apply(RoundInForce current, RoundChange change, int reservePerMillion) {
        return apply(current, null, change, reservePerMillion);
    }

    /**
     * @param current the round's rules in force, null for a round the profile does not have
     * @param earlier the receipt remembered for {@code change.changeId}, null if the id is new
     */
    public static Outcome apply(RoundInForce current, ChangeReceipt earlier, RoundChange change, int reservePerMillion) {
        long budgetNow = current == null ? 0 : current.round().budgetFen();
        if (!validChangeId(change.changeId)) {
            String why = change.invalid != null ? change.invalid
                    : "change_id must be 1 to " + MAX_CHANGE_ID_LENGTH + " of " + CHANGE_ID_CHARSET + ", was "
                            + quote(change.changeId);
            return new Outcome(null, refused("change-" + change.source, change, budgetNow, why), null);
        }
        String entryId = "change-" + change.changeId;
        String content = change.content();
        if (earlier != null) {
            if (earlier.content.equals(content)) {
                return new Outcome(null, line(entryId + "/repeat/" + change.source, change, "CHANGE_REPEATED", 0,
                        budgetNow, "change " + change.changeId + " resent: already received at " + earlier.source
                                + " (" + earlier.kind + "), nothing applied again", false), null);
            }
            return new Outcome(null, refused(entryId + "/conflict/" + change.source, change, budgetNow,
                    "change_id " + change.changeId + " was already used at " + earlier.source + " for "
                            + earlier.content + " (" + earlier.kind + "); send this change under a new change_id"),
                    null);
        }
        Outcome decided = decide(entryId, current, change, reservePerMillion);
        return new Outcome(decided.rules(), decided.ledger(),
                ChangeReceipt.of(content, change.source, decided.ledger().kind()));
    }

    private static Outcome decide(String entryId, RoundInForce current, RoundChange change, int reservePerMillion) {
        long budgetNow = current == null ? 0 : current.round().budgetFen();
        if (change.invalid != null) {
            return new Outcome(null, refused(entryId, change, budgetNow, change.invalid), null);
        }
        if (change.action == null) {
            return new Outcome(null, refused(entryId, change, budgetNow, "no action"), null);
        }
        if (change.roundId < 1) {
            return new Outcome(null, refused(entryId, change, budgetNow,
                    "round_id must be 1 to " + Integer.MAX_VALUE + ", was " + change.roundId), null);
        }
        if (current == null) {
            return new Outcome(null, refused(entryId, change, 0, "round " + change.roundId + " is not configured"),
                    null);
        }
        Round round = current.round();
        long budget = round.budgetFen();
        switch (change.action) {
            case PAUSE -> {
                return new Outcome(new RoundInForce(round.changed(budget, true), current.shardBaseFen()),
                        line(entryId, change, "PAUSED", 0, budget, "round paused", true), null);
            }
            case RESUME -> {
                return new Outcome(new RoundInForce(round.changed(budget, false), current.shardBaseFen()),
                        line(entryId, change, "RESUMED", 0, budget, "round resumed", true), null);
            }
            case SET_BUDGET -> {
                long target = change.budgetFen;
                if (target <= 0 || target > MAX_BUDGET_FEN) {
                    return new Outcome(null, refused(entryId, change, budget,
                            "budget_fen must be 1 to " + MAX_BUDGET_FEN + ", was " + target), null);
                }
                long delta = target - budget;
                if (delta >= 0) {
                    RoundInForce raised = new RoundInForce(round.changed(target, round.paused()),
                            Math.max(current.shardBaseFen(), target));
                    return new Outcome(raised, line(entryId, change, "BUDGET_RAISED", delta, target,
                            "budget raised to " + target + " fen", true), null);
                }
                long sharded = current.shardBaseFen() - BudgetSplit.reserve(current.shardBaseFen(), reservePerMillion);
                if (target < sharded) {
                    return new Outcome(null, refused(entryId, change, budget, "cannot lower round "
                            + change.roundId + " to " + target + " fen: its shards hold " + sharded
                            + " fen that may already be paid, whenever the change says it was issued. Lower it to "
                            + "at least " + sharded + " fen (out of the reserve) or pause the round; a deeper cut "
                            + "can only go in the profile before the job first starts"), null);
                }
                RoundInForce lowered = new RoundInForce(round.changed(target, round.paused()), current.shardBaseFen());
                return new Outcome(lowered, line(entryId, change, "BUDGET_LOWERED", delta, target,
                        "budget lowered to " + target + " fen out of the reserve", true), null);
            }
            default -> throw new IllegalArgumentException("unknown action " + change.action);
        }
    }

    private static LedgerEntry refused(String entryId, RoundChange change, long budget, String why) {
        return line(entryId, change, "CHANGE_REFUSED", 0, budget,
                (change.action == null ? "change" : change.action) + " refused: " + why, false);
    }

    private static LedgerEntry line(String entryId, RoundChange change, String kind, long amount, long budgetAfter,
            String detail, boolean withReason) {
        String full = detail + (withReason && change.reason != null ? " (" + change.reason + ")" : "");
        return new LedgerEntry(entryId, change.roundId, kind, amount, budgetAfter, printable(full, MAX_DETAIL_CHARS),
                change.issuedAtMs, change.source);
    }

    /** For echoing a value into a detail: quoted, printable, short. */
    public static String quote(String value) {
        return value == null ? "none" : "\"" + printable(value, 80) + "\"";
    }

    /**
     * {@code text} with control characters and unpaired surrogates as '?' (PostgreSQL refuses a NUL in text:
     * one in a ledger detail would fail the settlement writer on every retry), cut at {@code max} characters.
     */
    public static String printable(String text, int max) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), max + 1));
        int i = 0;
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            int width = Character.charCount(cp);
            if (out.length() + width > max) {
                return out.append('…').toString();
            }
            boolean bad = Character.isISOControl(cp) || (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE);
            if (bad) {
                out.append('?');
            } else {
                out.appendCodePoint(cp);
            }
            i += width;
        }
        return out.toString();
    }
}
