package io.hongbao.settlement;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What the settlement sink writes: exactly one of a {@link Payout}, a {@link LedgerEntry}, a
 * {@link RejectCount} or a {@link RoundConfig}, named by {@link #kind}. A Flink POJO (public no-arg
 * constructors and public fields all the way down), so Flink serializes it without Kryo.
 *
 * <pre>{@code
 * SettlementRecord.payout(1, 2, 42L, 888L, "0123456789abcdef0123456789abcdef", "hongbao.shakes", 3, 1007L, eventTimeMs);
 * SettlementRecord.rejectCount("OUT_OF_WINDOW", 17L);
 * }</pre>
 */
public class SettlementRecord {

    /** Which of the four payload fields is set. */
    public enum Kind { PAYOUT, LEDGER_ENTRY, REJECT_COUNT, ROUND_CONFIG }

    private static final Pattern EVENT_ID = Pattern.compile("[0-9a-f]{32}");

    public Kind kind;
    public Payout payout;
    public LedgerEntry ledgerEntry;
    public RejectCount rejectCount;
    public RoundConfig roundConfig;

    public SettlementRecord() {}

    /** One red packet paid: inserted once, never updated. */
    public static SettlementRecord payout(int roundId, int tierId, long userId, long amountFen, String eventId,
            String kafkaTopic, int kafkaPartition, long kafkaOffset, long decidedAtMs) {
        Payout p = new Payout();
        p.payoutId = payoutId(roundId, eventId);
        p.roundId = roundId;
        p.tierId = tierId;
        p.userId = userId;
        p.amountFen = amountFen;
        p.eventId = eventId;
        p.kafkaTopic = kafkaTopic;
        p.kafkaPartition = kafkaPartition;
        p.kafkaOffset = kafkaOffset;
        p.decidedAtMs = decidedAtMs;
        SettlementRecord r = new SettlementRecord();
        r.kind = Kind.PAYOUT;
        r.payout = p;
        return r;
    }

    /** One line of a round's ledger: inserted once, never updated. */
    public static SettlementRecord ledgerEntry(String entryId, int roundId, String kind, long amountFen,
            long budgetFenAfter, String detail, long effectiveAtMs, String source) {
        LedgerEntry l = new LedgerEntry();
        l.entryId = entryId;
        l.roundId = roundId;
        l.kind = kind;
        l.amountFen = amountFen;
        l.budgetFenAfter = budgetFenAfter;
        l.detail = detail;
        l.effectiveAtMs = effectiveAtMs;
        l.source = source;
        SettlementRecord r = new SettlementRecord();
        r.kind = Kind.LEDGER_ENTRY;
        r.ledgerEntry = l;
        return r;
    }

    /** The running total of records rejected for a reason (an absolute value, not an increment). */
    public static SettlementRecord rejectCount(String reason, long records) {
        RejectCount c = new RejectCount();
        c.reason = reason;
        c.records = records;
        SettlementRecord r = new SettlementRecord();
        r.kind = Kind.REJECT_COUNT;
        r.rejectCount = c;
        return r;
    }

    /** A round's whole config as the job applies it from now on; upserted, the highest version wins. */
    public static SettlementRecord roundConfig(RoundConfig config) {
        SettlementRecord r = new SettlementRecord();
        r.kind = Kind.ROUND_CONFIG;
        r.roundConfig = Objects.requireNonNull(config, "config");
        return r;
    }

    /** {@code r<round>-<32 hex event id>}: one shake, one payout at most. */
    public static String payoutId(int roundId, String eventId) {
        return "r" + roundId + "-" + eventId;
    }

    /**
     * Throws {@link IllegalArgumentException} naming the record when it breaks the settlement rules (a bug
     * upstream: the sink fails rather than write it).
     */
    public void validate() {
        if (kind == null) {
            throw new IllegalArgumentException("settlement record without a kind");
        }
        int set = (payout != null ? 1 : 0) + (ledgerEntry != null ? 1 : 0) + (rejectCount != null ? 1 : 0)
                + (roundConfig != null ? 1 : 0);
        if (set != 1) {
            throw new IllegalArgumentException("settlement record of kind " + kind + " carries " + set
                    + " payloads, expected exactly one");
        }
        switch (kind) {
            case PAYOUT -> {
                check(payout != null, "PAYOUT record without a payout");
                payout.validate();
            }
            case LEDGER_ENTRY -> {
                check(ledgerEntry != null, "LEDGER_ENTRY record without a ledger entry");
                ledgerEntry.validate();
            }
            case REJECT_COUNT -> {
                check(rejectCount != null, "REJECT_COUNT record without a reject count");
                rejectCount.validate();
            }
            case ROUND_CONFIG -> {
                check(roundConfig != null, "ROUND_CONFIG record without a round config");
                roundConfig.validate();
            }
        }
    }

    @Override
    public String toString() {
        return switch (kind == null ? Kind.PAYOUT : kind) {
            case PAYOUT -> String.valueOf(payout);
            case LEDGER_ENTRY -> String.valueOf(ledgerEntry);
            case REJECT_COUNT -> String.valueOf(rejectCount);
            case ROUND_CONFIG -> String.valueOf(roundConfig);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SettlementRecord r && kind == r.kind && Objects.equals(payout, r.payout)
                && Objects.equals(ledgerEntry, r.ledgerEntry) && Objects.equals(rejectCount, r.rejectCount)
                && Objects.equals(roundConfig, r.roundConfig);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, payout, ledgerEntry, rejectCount, roundConfig);
    }

    /** A row of {@code payout}. */
    public static class Payout {
        public String payoutId;
        public int roundId;
        public int tierId;
        public long userId;
        public long amountFen;
        /** The winning shake's event id, 32 lower-case hex digits. */
        public String eventId;
        public String kafkaTopic;
        public int kafkaPartition;
        public long kafkaOffset;
        /** The winning shake's event time (epoch ms): the same on every replay. */
        public long decidedAtMs;

        public Payout() {}

        /** Throws {@link IllegalArgumentException} naming the row when it breaks the schema's rules. */
        public void validate() {
            String id = "payout " + payoutId;
            check(payoutId != null, "payout without a payout id");
            check(eventId != null && EVENT_ID.matcher(eventId).matches(),
                    id + ": event id must be 32 lower-case hex digits, got " + eventId);
            check(payoutId.equals(payoutId(roundId, eventId)),
                    id + ": payout id must be " + payoutId(roundId, eventId));
            check(amountFen > 0, id + ": amount must be at least 1 fen, got " + amountFen);
            check(kafkaTopic != null && !kafkaTopic.isEmpty(), id + ": no Kafka topic (lineage)");
            check(kafkaPartition >= 0 && kafkaOffset >= 0,
                    id + ": bad Kafka lineage " + kafkaTopic + "/" + kafkaPartition + "/" + kafkaOffset);
        }

        @Override
        public String toString() {
            return payoutId + " user " + userId + " tier " + tierId + " " + amountFen + " fen (" + kafkaTopic + "/"
                    + kafkaPartition + "/" + kafkaOffset + ")";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Payout p && Objects.equals(payoutId, p.payoutId) && roundId == p.roundId
                    && tierId == p.tierId && userId == p.userId && amountFen == p.amountFen
                    && Objects.equals(eventId, p.eventId) && Objects.equals(kafkaTopic, p.kafkaTopic)
                    && kafkaPartition == p.kafkaPartition && kafkaOffset == p.kafkaOffset
                    && decidedAtMs == p.decidedAtMs;
        }

        @Override
        public int hashCode() {
            return Objects.hash(payoutId, roundId, eventId, amountFen);
        }
    }

    /** A row of {@code round_ledger}. */
    public static class LedgerEntry {
        public String entryId;
        public int roundId;
        /** CONFIGURED, BUDGET_RAISED, BUDGET_LOWERED, PAUSED, RESUMED, CHANGE_REFUSED, SWEPT, ... */
        public String kind;
        /** Signed change of the budget in fen; 0 when the budget does not change. */
        public long amountFen;
        public long budgetFenAfter;
        public String detail;
        public long effectiveAtMs;
        /** Where the change came from: control-topic lineage "topic/partition/offset", or "profile". */
        public String source;

        public LedgerEntry() {}

        /** Throws {@link IllegalArgumentException} naming the row when it breaks the schema's rules. */
        public void validate() {
            check(entryId != null && !entryId.isEmpty(), "ledger entry without an entry id");
            check(kind != null && !kind.isEmpty(), "ledger entry " + entryId + " without a kind");
            check(source != null, "ledger entry " + entryId + " without a source");
        }

        @Override
        public String toString() {
            return entryId + " round " + roundId + " " + kind + " " + amountFen + " -> " + budgetFenAfter;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LedgerEntry l && Objects.equals(entryId, l.entryId) && roundId == l.roundId
                    && Objects.equals(kind, l.kind) && amountFen == l.amountFen
                    && budgetFenAfter == l.budgetFenAfter && Objects.equals(detail, l.detail)
                    && effectiveAtMs == l.effectiveAtMs && Objects.equals(source, l.source);
        }

        @Override
        public int hashCode() {
            return Objects.hash(entryId, roundId, kind);
        }
    }

    /** A row of {@code rejected_count}: the absolute running total for one reason. */
    public static class RejectCount {
        public String reason;
        public long records;

        public RejectCount() {}

        /** Throws {@link IllegalArgumentException} naming the row when it breaks the schema's rules. */
        public void validate() {
            check(reason != null && !reason.isEmpty(), "reject count without a reason");
            check(records >= 0, "reject count " + reason + " is negative: " + records);
        }

        @Override
        public String toString() {
            return reason + "=" + records;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RejectCount c && Objects.equals(reason, c.reason) && records == c.records;
        }

        @Override
        public int hashCode() {
            return Objects.hash(reason, records);
        }
    }

    /** A row of {@code round} and its rows of {@code prize_tier}. */
    public static class RoundConfig {
        public int roundId;
        public String name;
        public long startsAtMs;
        public long endsAtMs;
        public long budgetFen;
        public int winPerMillion;
        public int winsPerRound;
        public long fenPerGala;
        public boolean paused;
        /** Changes applied since the profile's config (0); a config never replaces a higher version. */
        public int version;
        public List<Tier> tiers = new ArrayList<>();

        public RoundConfig() {}

        /** Throws {@link IllegalArgumentException} naming the row when it breaks the schema's rules. */
        public void validate() {
            String at = "round config " + roundId + " v" + version;
            check(name != null, at + ": no name");
            check(endsAtMs > startsAtMs, at + ": ends before it starts");
            check(budgetFen >= 0, at + ": negative budget");
            check(tiers != null, at + ": no tier list");
            for (Tier t : tiers) {
                check(t != null && t.name != null && t.minFen > 0 && t.maxFen >= t.minFen && t.countCap >= 0,
                        at + ": bad tier " + t);
            }
        }

        @Override
        public String toString() {
            return "round " + roundId + " v" + version + " budget " + budgetFen + (paused ? " paused" : "") + " tiers "
                    + tiers;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RoundConfig c && roundId == c.roundId && Objects.equals(name, c.name)
                    && startsAtMs == c.startsAtMs && endsAtMs == c.endsAtMs && budgetFen == c.budgetFen
                    && winPerMillion == c.winPerMillion && winsPerRound == c.winsPerRound
                    && fenPerGala == c.fenPerGala && paused == c.paused && version == c.version
                    && Objects.equals(tiers, c.tiers);
        }

        @Override
        public int hashCode() {
            return Objects.hash(roundId, version, budgetFen);
        }
    }

    /** A row of {@code prize_tier}. */
    public static class Tier {
        public int tierId;
        public String name;
        public long minFen;
        public long maxFen;
        public long countCap;
        public int weight;

        public Tier() {}

        public static Tier of(int tierId, String name, long minFen, long maxFen, long countCap, int weight) {
            Tier t = new Tier();
            t.tierId = tierId;
            t.name = name;
            t.minFen = minFen;
            t.maxFen = maxFen;
            t.countCap = countCap;
            t.weight = weight;
            return t;
        }

        @Override
        public String toString() {
            return "tier " + tierId + " " + minFen + ".." + maxFen + " fen x" + countCap;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tier t && tierId == t.tierId && Objects.equals(name, t.name) && minFen == t.minFen
                    && maxFen == t.maxFen && countCap == t.countCap && weight == t.weight;
        }

        @Override
        public int hashCode() {
            return Objects.hash(tierId, minFen, maxFen, countCap);
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
