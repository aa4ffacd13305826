package io.hongbao.ingest.event;

/**
 * What {@link ShakeEventCodec#decode} made of a record value: an event, or a reason with a detail for the
 * dead-letter topic. Never both, never neither.
 */
public final class DecodeResult {
    private final ShakeEvent event;
    private final RejectReason reason;
    private final String detail;

    private DecodeResult(ShakeEvent event, RejectReason reason, String detail) {
        this.event = event;
        this.reason = reason;
        this.detail = detail;
    }

    public static DecodeResult accepted(ShakeEvent event) {
        return new DecodeResult(event, null, null);
    }

    public static DecodeResult rejected(RejectReason reason, String detail) {
        return new DecodeResult(null, reason, detail);
    }

    public boolean isAccepted() {
        return event != null;
    }

    /** The event; only when {@link #isAccepted()}. */
    public ShakeEvent event() {
        if (event == null) {
            throw new IllegalStateException("rejected record has no event: " + reason);
        }
        return event;
    }

    /** The reason; null when accepted. */
    public RejectReason reason() {
        return reason;
    }

    public String detail() {
        return detail;
    }

    @Override
    public String toString() {
        return isAccepted() ? "accepted " + event : "rejected " + reason + ": " + detail;
    }
}
