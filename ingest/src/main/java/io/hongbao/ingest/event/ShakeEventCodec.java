package io.hongbao.ingest.event;

import com.google.protobuf.CodedInputStream;
import io.hongbao.ingest.wire.v1.ShakeEventV1;

/**
 * The shake topic's wire format: one format byte, then either a protobuf {@code ShakeEventV1}
 * ({@link #FORMAT_V1}) or a gateway tick ({@link #FORMAT_TICK}, {@value #TICK_BYTES} bytes in all: the gateway
 * time as a big-endian int64, then the gateway's id as a big-endian uint32).
 *
 * <p>A tick is the gateway's heartbeat, written to every partition at a fixed interval: "on this partition no
 * more shakes from me with a gateway time below this tick's time minus the out-of-orderness". It moves the
 * partition's watermark when no shake does (between rounds, after the gala) without any idleness timeout.
 *
 * <p>{@link #decode} never throws on bad input: it is the first thing every untrusted byte meets, and a
 * record that cannot be read must be counted and dead-lettered, not fail the job.
 */
public final class ShakeEventCodec {
    /** Format byte of {@code ShakeEventV1}. */
    public static final byte FORMAT_V1 = 1;
    /**
     * Format byte of a gateway tick: {@code 'T'}, not 2, which stays free for the next shake format; a tick is
     * another kind of record, not a version of the shake.
     */
    public static final byte FORMAT_TICK = 0x54;
    /** A tick's exact size: format byte, gateway time (int64), gateway id (uint32), all big-endian. */
    public static final int TICK_BYTES = 1 + Long.BYTES + Integer.BYTES;
    /** A real event is ~60 bytes; anything past this is not a shake and is not parsed at all. */
    public static final int MAX_RECORD_BYTES = 512;
    public static final int MAX_REGION_CHARS = 16;

    private ShakeEventCodec() {}

    public static byte[] encode(ShakeEvent e) {
        ShakeEventV1.Builder b = ShakeEventV1.newBuilder()
                .setEventIdHi(e.eventIdHi)
                .setEventIdLo(e.eventIdLo)
                .setUserId(e.userId)
                .setDeviceId(e.deviceId)
                .setRoundId(e.roundId)
                .setChannelValue(e.channel == null ? 0 : e.channel.ordinal() + 1)
                .setRegion(e.region == null ? "" : e.region)
                .setClientTsMs(e.clientTsMs)
                .setGatewayTsMs(e.gatewayTsMs);
        if (e.hasDeviceSeq()) {
            b.setDeviceSeq(e.deviceSeq);
        }
        return withFormatByte(b.build());
    }

    /** Encodes a message as given, valid or not; the generator uses it to make bad-field records. */
    public static byte[] withFormatByte(ShakeEventV1 message) {
        byte[] out = new byte[1 + message.getSerializedSize()];
        out[0] = FORMAT_V1;
        try {
            message.writeTo(com.google.protobuf.CodedOutputStream.newInstance(out, 1, out.length - 1));
        } catch (java.io.IOException impossible) {
            throw new IllegalStateException("writing to an exactly sized array failed", impossible);
        }
        return out;
    }

    /** A tick at {@code gatewayTsMs} (positive) from gateway {@code gatewayId} (0 when unnamed). */
    public static byte[] encodeTick(long gatewayTsMs, int gatewayId) {
        if (gatewayTsMs <= 0) {
            throw new IllegalArgumentException("tick time must be positive, was " + gatewayTsMs);
        }
        return java.nio.ByteBuffer.allocate(TICK_BYTES).put(FORMAT_TICK).putLong(gatewayTsMs).putInt(gatewayId)
                .array();
    }

    public static DecodeResult decode(byte[] value) {
        if (value == null || value.length == 0) {
            return DecodeResult.rejected(RejectReason.UNDECODABLE, "empty record value");
        }
        if (value.length > MAX_RECORD_BYTES) {
            return DecodeResult.rejected(RejectReason.OVERSIZED,
                    value.length + " bytes, limit " + MAX_RECORD_BYTES);
        }
        if (value[0] == FORMAT_TICK) {
            return decodeTick(value);
        }
        if (value[0] != FORMAT_V1) {
            return DecodeResult.rejected(RejectReason.UNSUPPORTED_VERSION,
                    "format byte " + (value[0] & 0xff));
        }
        ShakeEventV1 m;
        try {
            m = ShakeEventV1.parseFrom(CodedInputStream.newInstance(value, 1, value.length - 1));
        } catch (java.io.IOException | RuntimeException e) {
            return DecodeResult.rejected(RejectReason.UNDECODABLE, "protobuf: " + e.getMessage());
        }
        String invalid = invalidField(m);
        if (invalid != null) {
            return DecodeResult.rejected(RejectReason.INVALID_FIELD, invalid);
        }
        return DecodeResult.accepted(new ShakeEvent(m.getEventIdHi(), m.getEventIdLo(), m.getUserId(),
                m.getDeviceId(), m.getRoundId(), Channel.values()[m.getChannelValue() - 1], m.getRegion(),
                m.getClientTsMs(), m.getGatewayTsMs(), m.hasDeviceSeq() ? m.getDeviceSeq() : ShakeEvent.NO_SEQUENCE));
    }

    private static DecodeResult decodeTick(byte[] value) {
        if (value.length != TICK_BYTES) {
            return DecodeResult.rejected(RejectReason.UNDECODABLE,
                    "tick of " + value.length + " bytes, must be " + TICK_BYTES);
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(value, 1, TICK_BYTES - 1);
        long gatewayTsMs = b.getLong();
        if (gatewayTsMs <= 0) {
            return DecodeResult.rejected(RejectReason.INVALID_FIELD, "tick time must be positive, was " + gatewayTsMs);
        }
        return DecodeResult.tick(gatewayTsMs, b.getInt());
    }

    /** 1 to {@value #MAX_REGION_CHARS} characters of {@code [A-Z0-9-]}; a loop, not a regex: it runs per event. */
    static boolean isRegionCode(String region) {
        int n = region.length();
        if (n == 0 || n > MAX_REGION_CHARS) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = region.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** The first field that makes the message unusable, or null. */
    private static String invalidField(ShakeEventV1 m) {
        if (m.getEventIdHi() == 0 && m.getEventIdLo() == 0) {
            return "event_id missing";
        }
        if (m.getUserId() <= 0) {
            return "user_id must be positive, was " + Long.toUnsignedString(m.getUserId());
        }
        if (m.getDeviceId() == 0) {
            return "device_id missing";
        }
        if (m.getRoundId() <= 0) {
            return "round_id must be positive, was " + Integer.toUnsignedString(m.getRoundId());
        }
        int channel = m.getChannelValue();
        if (channel < 1 || channel > Channel.values().length) {
            return "channel " + channel + " unknown";
        }
        if (!isRegionCode(m.getRegion())) {
            return "region must be 1-" + MAX_REGION_CHARS + " chars of [A-Z0-9-]";
        }
        if (m.getGatewayTsMs() <= 0) {
            return "gateway_ts_ms must be positive";
        }
        if (m.getClientTsMs() <= 0) {
            return "client_ts_ms must be positive";
        }
        if (m.hasDeviceSeq() && m.getDeviceSeq() <= 0) {
            return "device_seq must be positive when present";
        }
        return null;
    }
}
