package io.hongbao.settlement.reconcile;

/** What {@link Reconciliation} verifies; each violation names one of these. */
public enum Check {
    OVER_BUDGET("a round's payouts sum to at most its budget"),
    TIER_CAP_EXCEEDED("a tier pays at most its count cap"),
    AMOUNT_ABOVE_TIER_MAX("no payout is larger than its tier's max_fen"),
    USER_WINS_PER_ROUND_EXCEEDED("a user wins at most wins_per_round packets in a round"),
    USER_FEN_PER_GALA_EXCEEDED("a user's fen over the gala, up to and including a round, is at most that round's "
            + "fen_per_gala"),
    DUPLICATE_PAYOUT_ID("no payout id appears twice"),
    DUPLICATE_ROUND_EVENT("no (round, event) pair is paid twice"),
    PAYOUT_ID_NOT_DERIVED("every payout id is r<round>-<event id>"),
    MISSING_LINEAGE("every payout names its winning event and Kafka record (topic, partition >= 0, offset >= 0)"),
    SHARED_KAFKA_RECORD("no two payouts come from the same Kafka record"),
    UNCONFIGURED_ROUND_OR_TIER("every payout belongs to a configured round and tier"),
    LOST_TRANSACTION("no settlement transaction was lost between prepare and commit"),
    QUARANTINED("the sink quarantined no row (a payout or ledger entry whose key was taken by another row, unpaid)"),
    INTERACTION_COUNT_MISMATCH("each round's interaction count equals the manifest's distinct valid shakes "
            + "(only with a manifest)"),
    REJECT_COUNT_MISMATCH("each reason's reject count equals the manifest's (only with a manifest)");

    /** The checks that need the generator's manifest. */
    public static final java.util.Set<Check> AGAINST_MANIFEST =
            java.util.EnumSet.of(INTERACTION_COUNT_MISMATCH, REJECT_COUNT_MISMATCH);

    private final String rule;

    Check(String rule) {
        this.rule = rule;
    }

    /** The rule that holds when the check passes. */
    public String rule() {
        return rule;
    }
}
