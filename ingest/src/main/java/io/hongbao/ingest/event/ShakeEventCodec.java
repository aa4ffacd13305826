package io.hongbao.ingest.event;

import com.google.protobuf.CodedInputStream;
import io.hongbao.ingest.wire.v1.ShakeEventV1;

/**
 * The shake event's wire format: one format byte ({@link #FORMAT_V1}) then a protobuf {@code ShakeEventV1}.
 *
 * <p>{@link #decode} never throws on bad input: it is the first thing every untrusted byte meets, and a
 * record that cannot be read must be counted and dead-lettered, not fail the job.
 */
public final class ShakeEventCodec {
    /** Format byte of {@code ShakeEventV1}. */
    public static final byte FORMAT_V1 = 1;
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

    public static DecodeResult decode(byte[] value) {
        if (value == null || value.length == 0) {
            return DecodeResult.rejected(RejectReason.UNDECODABLE, "empty record value");
        }
        if (value.length > MAX_RECORD_BYTES) {
            return DecodeResult.rejected(RejectReason.OVERSIZED,
                    value.length + " bytes, limit " + MAX_RECORD_BYTES);
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
