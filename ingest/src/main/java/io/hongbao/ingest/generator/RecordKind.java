package io.hongbao.ingest.generator;

import io.hongbao.ingest.event.RejectReason;

/** What the generator meant a record to be, and so how a correct pipeline must classify it. */
public enum RecordKind {
    /** A person's shake, first delivery. */
    VALID(null),
    /** A bot's shake: well formed and in window, but faster than a person can shake. */
    BOT(null),
    /** The same bytes again: a client retry or gateway replay. */
    RETRY(null),
    EMPTY(RejectReason.UNDECODABLE),
    /** Format byte right, then bytes that are no protobuf message. */
    GARBAGE(RejectReason.UNDECODABLE),
    /** A real event cut short inside a field. */
    TRUNCATED(RejectReason.UNDECODABLE),
    UNSUPPORTED_VERSION(RejectReason.UNSUPPORTED_VERSION),
    OVERSIZED(RejectReason.OVERSIZED),
    /** Decodes, but a field is out of range. */
    INVALID_FIELD(RejectReason.INVALID_FIELD),
    UNKNOWN_ROUND(RejectReason.UNKNOWN_ROUND),
    /** A shake just before a round opens or just after it closes. */
    OUT_OF_WINDOW(RejectReason.OUT_OF_WINDOW),
    /**
     * A gateway tick (heartbeat) on one partition: moves event time, and is neither a shake nor a reject; never
     * in {@code records}, {@code records_by_kind} or {@code expected}, counted as the manifest's {@code ticks}.
     */
    TICK(null);

    /** The kinds the malformed share is spread over, in turn. */
    static final RecordKind[] MALFORMED = {EMPTY, GARBAGE, TRUNCATED, UNSUPPORTED_VERSION, OVERSIZED, INVALID_FIELD};

    private final RejectReason expectedReason;

    RecordKind(RejectReason expectedReason) {
        this.expectedReason = expectedReason;
    }

    /** The reason a correct pipeline rejects this kind with; null for kinds that are shakes, and for ticks. */
    public RejectReason expectedReason() {
        return expectedReason;
    }
}
