package io.hongbao.ingest.event;

/**
 * What {@link ShakeEventCodec#decode} made of a record value: exactly one of an event, a gateway tick (its time,
 * see {@link ShakeEventCodec#encodeTick}), or a reason with a detail for the dead-letter topic.
 *
 * <p>A tick is neither a shake nor a reject: it is never counted, never dead-lettered, and only moves event time.
 */
public final class DecodeResult {
    private final ShakeEvent event;
    private final RejectReason reason;
    private final String detail;
    private final long tickMs;
    private final int tickGatewayId;

    private DecodeResult(ShakeEvent event, RejectReason reason, String detail, long tickMs, int tickGatewayId) {
        this.event = event;
        this.reason = reason;
        this.detail = detail;
        this.tickMs = tickMs;
        this.tickGatewayId = tickGatewayId;
    }

    public static DecodeResult accepted(ShakeEvent event) {
        return new DecodeResult(event, null, null, 0, 0);
    }

    public static DecodeResult rejected(RejectReason reason, String detail) {
        return new DecodeResult(null, reason, detail, 0, 0);
    }

    /** A gateway tick; {@code gatewayTsMs} is positive (the codec rejects other ticks). */
    public static DecodeResult tick(long gatewayTsMs, int gatewayId) {
        if (gatewayTsMs <= 0) {
            throw new IllegalArgumentException("tick time must be positive, was " + gatewayTsMs);
        }
        return new DecodeResult(null, null, null, gatewayTsMs, gatewayId);
    }

    /** A shake; a tick is not accepted (nor rejected). */
    public boolean isAccepted() {
        return event != null;
    }

    public boolean isTick() {
        return tickMs > 0;
    }

    public boolean isRejected() {
        return reason != null;
    }

    /** The event; only when {@link #isAccepted()}. */
    public ShakeEvent event() {
        if (event == null) {
            throw new IllegalStateException((isTick() ? "a tick" : "rejected record " + reason) + " has no event");
        }
        return event;
    }

    /** The reason; null when accepted or a tick. */
    public RejectReason reason() {
        return reason;
    }

    public String detail() {
        return detail;
    }

    /** The gateway time a tick carries; only when {@link #isTick()}. */
    public long tickMs() {
        if (!isTick()) {
            throw new IllegalStateException("not a tick: " + this);
        }
        return tickMs;
    }

    /** The id of the gateway that wrote the tick (0: unnamed); only when {@link #isTick()}. */
    public int tickGatewayId() {
        if (!isTick()) {
            throw new IllegalStateException("not a tick: " + this);
        }
        return tickGatewayId;
    }

    @Override
    public String toString() {
        if (isTick()) {
            return "tick " + tickMs + " from gateway " + Integer.toUnsignedString(tickGatewayId);
        }
        return isAccepted() ? "accepted " + event : "rejected " + reason + ": " + detail;
    }
}
