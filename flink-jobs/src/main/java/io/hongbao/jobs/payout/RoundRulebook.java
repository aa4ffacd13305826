package io.hongbao.jobs.payout;

import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Round;
import java.time.Instant;
import java.util.function.IntFunction;
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
 *
 * <p>Schedule rules ({@code SET_WINDOW}, {@code ADD_ROUND}). A change takes effect at an event time it carries:
 * shakes before it keep the window as it was, shakes at or after it get the new one. So that the two agree
 * wherever they overlap, every boundary the change moves (the old and the new position) lies at or after that
 * time; then "the window in force at a shake's event time" is simply the newest window. The
 * {@link Horizon} says up to which event time shakes may already have been judged: a change taking effect
 * before it would reach into decided event time and is refused, with the horizon in its line. A closed round
 * cannot be reopened that way (its end lies before the horizon): add a new round instead. A window may end no
 * later than {@link Horizon#latestEndMs()}, past which nothing would close it.
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

    /**
     * What a schedule change is held to: shakes with an event time before {@code decidedUntilMs} may have been
     * judged already; no window may end after {@code latestEndMs}.
     */
    public record Horizon(long decidedUntilMs, long latestEndMs) {
        /** No event time decided yet and no limit on the end: for rulebook tests of the budget rules. */
        public static final Horizon OPEN = new Horizon(Long.MIN_VALUE, Long.MAX_VALUE);
    }

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
        return apply(id -> id == change.roundId ? current : null, earlier, change, reservePerMillion, Horizon.OPEN);
    }

    /**
     * @param rules each round's rules in force, null for a round that has none (the profile's or added)
     * @param earlier the receipt remembered for {@code change.changeId}, null if the id is new
     * @param horizon what a schedule change is held to
     */
    public static Outcome apply(IntFunction<RoundInForce> rules, ChangeReceipt earlier, RoundChange change,
            int reservePerMillion, Horizon horizon) {
        RoundInForce current = change.roundId >= 1 ? rules.apply(change.roundId) : null;
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
        Outcome decided = change.isScheduleChange() && change.invalid == null && change.roundId >= 1
                ? schedule(entryId, current, rules, change, horizon)
                : decide(entryId, current, change, reservePerMillion);
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

    /** {@code SET_WINDOW} and {@code ADD_ROUND}: see the class comment, "Schedule rules". */
    private static Outcome schedule(String entryId, RoundInForce current, IntFunction<RoundInForce> rules,
            RoundChange change, Horizon horizon) {
        long budgetNow = current == null ? 0 : current.round().budgetFen();
        long at = change.effectiveAtMs;
        long start = change.startsAtMs;
        long end = change.endsAtMs;
        if (at == RoundChange.NONE || start == RoundChange.NONE || end == RoundChange.NONE) {
            return new Outcome(null, refused(entryId, change, budgetNow,
                    "starts_at, ends_at and effective_at are all needed"), null);
        }
        if (end <= start) {
            return new Outcome(null, refused(entryId, change, budgetNow,
                    "the window [" + time(start) + ", " + time(end) + ") ends before it starts"), null);
        }
        if (at < horizon.decidedUntilMs()) {
            return new Outcome(null, refused(entryId, change, budgetNow, "it would take effect at " + time(at)
                    + ", in event time already decided: shakes up to " + time(horizon.decidedUntilMs())
                    + " may have been judged by the schedule as it is. Send it again with effective_at at or after "
                    + time(horizon.decidedUntilMs()) + " (later is safer: the job keeps deciding)"), null);
        }
        if (end > horizon.latestEndMs()) {
            return new Outcome(null, refused(entryId, change, budgetNow, "the window would end at " + time(end)
                    + ", after " + time(horizon.latestEndMs()) + ", the latest end the gateway's ticks still close"),
                    null);
        }
        if (change.action == RoundChange.Action.ADD_ROUND) {
            if (current != null) {
                return new Outcome(null, refused(entryId, change, budgetNow, "round " + change.roundId
                        + " already exists; move its window with SET_WINDOW"), null);
            }
            RoundInForce like = change.likeRoundId >= 1 ? rules.apply(change.likeRoundId) : null;
            if (like == null) {
                return new Outcome(null, refused(entryId, change, 0, "like_round " + change.likeRoundId
                        + " is not a round of the gala: an added round takes its rules and tiers"), null);
            }
            long budget = change.budgetFen;
            if (budget <= 0 || budget > MAX_BUDGET_FEN) {
                return new Outcome(null, refused(entryId, change, 0,
                        "budget_fen must be 1 to " + MAX_BUDGET_FEN + ", was " + budget), null);
            }
            if (start < at) {
                return new Outcome(null, refused(entryId, change, 0, "the round would start at " + time(start)
                        + ", before the change takes effect at " + time(at)), null);
            }
            Round model = like.round();
            String name = change.name != null ? change.name : "round " + change.roundId;
            Round added = new Round(change.roundId, name, start, end, budget, model.winPerMillion(),
                    model.winsPerRound(), model.fenPerGala(), false, 1, model.tiers());
            return new Outcome(new RoundInForce(added, budget), line(entryId, change, "ROUND_ADDED", budget, budget,
                    "round added: [" + time(start) + ", " + time(end) + "), budget " + budget + " fen, rules of round "
                            + model.roundId() + ", from " + time(at), true, at), null);
        }
        if (current == null) {
            return new Outcome(null, refused(entryId, change, 0, "round " + change.roundId
                    + " is not configured; add it with ADD_ROUND"), null);
        }
        Round round = current.round();
        if (start == round.startsAtMs() && end == round.endsAtMs()) {
            return new Outcome(null, refused(entryId, change, budgetNow, "the window is already ["
                    + time(start) + ", " + time(end) + "): nothing to change"), null);
        }
        String moved = movedBefore(at, round.startsAtMs(), start, "start")
                + movedBefore(at, round.endsAtMs(), end, "end");
        if (!moved.isEmpty()) {
            return new Outcome(null, refused(entryId, change, budgetNow, "it moves the window's" + moved
                    + ", before the change takes effect at " + time(at) + " (event time before it keeps the window"
                    + " as it was, so every boundary it moves must lie at or after it)"), null);
        }
        Round rescheduled = new Round(round.roundId(), round.name(), start, end, round.budgetFen(),
                round.winPerMillion(), round.winsPerRound(), round.fenPerGala(), round.paused(), round.version() + 1,
                round.tiers());
        return new Outcome(new RoundInForce(rescheduled, current.shardBaseFen()), line(entryId, change,
                "RESCHEDULED", 0, budgetNow, "window [" + time(round.startsAtMs()) + ", " + time(round.endsAtMs())
                        + ") -> [" + time(start) + ", " + time(end) + ") from " + time(at), true, at), null);
    }

    /** " start (at … → …)" when a moved boundary lies before {@code at}; "" when it is unmoved or after. */
    private static String movedBefore(long at, long was, long becomes, String what) {
        return was != becomes && Math.min(was, becomes) < at
                ? " " + what + " (" + time(was) + " -> " + time(becomes) + ")" : "";
    }

    private static String time(long ms) {
        return Instant.ofEpochMilli(ms).toString();
    }

    private static LedgerEntry refused(String entryId, RoundChange change, long budget, String why) {
        return line(entryId, change, "CHANGE_REFUSED", 0, budget,
                (change.action == null ? "change" : change.action) + " refused: " + why, false);
    }

    private static LedgerEntry line(String entryId, RoundChange change, String kind, long amount, long budgetAfter,
            String detail, boolean withReason) {
        return line(entryId, change, kind, amount, budgetAfter, detail, withReason, change.issuedAtMs);
    }

    /** {@code effectiveAtMs}: when the line takes effect; a schedule change's own event time, else the record's. */
    private static LedgerEntry line(String entryId, RoundChange change, String kind, long amount, long budgetAfter,
            String detail, boolean withReason, long effectiveAtMs) {
        String full = detail + (withReason && change.reason != null ? " (" + change.reason + ")" : "");
        return new LedgerEntry(entryId, change.roundId, kind, amount, budgetAfter, printable(full, MAX_DETAIL_CHARS),
                effectiveAtMs, change.source);
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
