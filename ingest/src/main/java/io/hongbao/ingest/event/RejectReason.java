package io.hongbao.ingest.event;

/**
 * Why a Kafka record never becomes a counted, payable shake. Every rejected record carries exactly one,
 * is counted under it and goes to the dead-letter topic with it.
 */
public enum RejectReason {
    /** Empty value, not a protobuf message, or cut short. */
    UNDECODABLE,
    /** The leading format byte names no format this build reads. */
    UNSUPPORTED_VERSION,
    /** Larger than {@link ShakeEventCodec#MAX_RECORD_BYTES}; not even parsed. */
    OVERSIZED,
    /** Decoded, but a field is missing or out of range (no event id, user 0, unknown channel, bad region...). */
    INVALID_FIELD,
    /** The round id names no configured round. */
    UNKNOWN_ROUND,
    /** The gateway timestamp lies outside the round's window. */
    OUT_OF_WINDOW,
    /**
     * Reached the payout job after its round had closed in the job's event time (a partition that stalled, a
     * retry hours late): the round's budget has been swept and its event ids forgotten, so it can no longer be
     * decided. Appended: ordinals are on the wire ({@code ShakeRecordSerializer}).
     */
    LATE,
    /**
     * The event id was already seen with other content (another user, round, device or payload). An event id
     * is one event: the first record wins, a copy that differs is refused, never paid and never counted.
     */
    EVENT_ID_REUSED
}
