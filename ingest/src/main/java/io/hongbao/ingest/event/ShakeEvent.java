package io.hongbao.ingest.event;

import java.util.HexFormat;
import java.util.Objects;

/**
 * One shake, as decoded from Kafka. A Flink POJO (public no-arg constructor, public fields) so Flink
 * serializes it without falling back to Kryo.
 */
public class ShakeEvent {
    /** {@link #deviceSeq} of a client that keeps no per-device sequence. */
    public static final long NO_SEQUENCE = -1L;

    public long eventIdHi;
    public long eventIdLo;
    public long userId;
    public long deviceId;
    public int roundId;
    public Channel channel;
    public String region;
    public long clientTsMs;
    /** Event time. */
    public long gatewayTsMs;
    public long deviceSeq = NO_SEQUENCE;

    public ShakeEvent() {}

    @SuppressWarnings("ParameterNumber")
    public ShakeEvent(long eventIdHi, long eventIdLo, long userId, long deviceId, int roundId, Channel channel,
            String region, long clientTsMs, long gatewayTsMs, long deviceSeq) {
        this.eventIdHi = eventIdHi;
        this.eventIdLo = eventIdLo;
        this.userId = userId;
        this.deviceId = deviceId;
        this.roundId = roundId;
        this.channel = channel;
        this.region = region;
        this.clientTsMs = clientTsMs;
        this.gatewayTsMs = gatewayTsMs;
        this.deviceSeq = deviceSeq;
    }

    public boolean hasDeviceSeq() {
        return deviceSeq != NO_SEQUENCE;
    }

    /** The event id as 32 lower-case hex digits, the form used in reports and settlement rows. */
    public String eventIdHex() {
        return eventIdHex(eventIdHi, eventIdLo);
    }

    public static String eventIdHex(long hi, long lo) {
        HexFormat hex = HexFormat.of();
        return hex.toHexDigits(hi) + hex.toHexDigits(lo);
    }

    public ShakeEvent copy() {
        return new ShakeEvent(eventIdHi, eventIdLo, userId, deviceId, roundId, channel, region, clientTsMs,
                gatewayTsMs, deviceSeq);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ShakeEvent e)) {
            return false;
        }
        return eventIdHi == e.eventIdHi && eventIdLo == e.eventIdLo && userId == e.userId && deviceId == e.deviceId
                && roundId == e.roundId && channel == e.channel && Objects.equals(region, e.region)
                && clientTsMs == e.clientTsMs && gatewayTsMs == e.gatewayTsMs && deviceSeq == e.deviceSeq;
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventIdHi, eventIdLo, userId, deviceId, roundId, channel, region, clientTsMs,
                gatewayTsMs, deviceSeq);
    }

    @Override
    public String toString() {
        return "ShakeEvent{" + eventIdHex() + " user=" + userId + " device=" + deviceId + " round=" + roundId
                + " " + channel + " " + region + " client=" + clientTsMs + " gateway=" + gatewayTsMs
                + (hasDeviceSeq() ? " seq=" + deviceSeq : "") + "}";
    }
}
