package io.hongbao.ingest.event;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.wire.v1.ShakeEventV1;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ShakeEventCodecTest {
    private static final ShakeEvent SHAKE = new ShakeEvent(0x0123456789abcdefL, 0xfedcba9876543210L, 100_000_123L,
            0x7a7b7c7d7e7f7071L, 7, Channel.ANDROID, "CN-GD", 1_801_000_000_000L, 1_801_000_000_250L, 42L);

    @Test
    void shouldRoundTripEveryField() {
        DecodeResult decoded = ShakeEventCodec.decode(ShakeEventCodec.encode(SHAKE));

        assertThat(decoded.isAccepted()).isTrue();
        ShakeEvent e = decoded.event();
        assertThat(e.eventIdHi).isEqualTo(0x0123456789abcdefL);
        assertThat(e.eventIdLo).isEqualTo(0xfedcba9876543210L);
        assertThat(e.userId).isEqualTo(100_000_123L);
        assertThat(e.deviceId).isEqualTo(0x7a7b7c7d7e7f7071L);
        assertThat(e.roundId).isEqualTo(7);
        assertThat(e.channel).isEqualTo(Channel.ANDROID);
        assertThat(e.region).isEqualTo("CN-GD");
        assertThat(e.clientTsMs).isEqualTo(1_801_000_000_000L);
        assertThat(e.gatewayTsMs).isEqualTo(1_801_000_000_250L);
        assertThat(e.deviceSeq).isEqualTo(42L);
        assertThat(e).isEqualTo(SHAKE);
        assertThat(e.eventIdHex()).isEqualTo("0123456789abcdeffedcba9876543210");
    }

    @ParameterizedTest
    @EnumSource(Channel.class)
    void shouldRoundTripEveryChannel(Channel channel) {
        ShakeEvent shake = SHAKE.copy();
        shake.channel = channel;

        assertThat(ShakeEventCodec.decode(ShakeEventCodec.encode(shake)).event().channel).isEqualTo(channel);
    }

    @Test
    void shouldRoundTripAbsentSequenceAndExtremeValues() {
        ShakeEvent shake = new ShakeEvent(-1L, 1L, Long.MAX_VALUE, -1L, Integer.MAX_VALUE, Channel.MINI_PROGRAM,
                "A".repeat(ShakeEventCodec.MAX_REGION_CHARS), 1L, Long.MAX_VALUE, ShakeEvent.NO_SEQUENCE);

        ShakeEvent decoded = ShakeEventCodec.decode(ShakeEventCodec.encode(shake)).event();

        assertThat(decoded).isEqualTo(shake);
        assertThat(decoded.hasDeviceSeq()).isFalse();
    }

    @Test
    void shouldKeepATypicalEventSmall() {
        assertThat(ShakeEventCodec.encode(SHAKE).length).isLessThanOrEqualTo(64);
    }

    @Test
    void shouldRejectEmptyAndNullValues() {
        assertThat(ShakeEventCodec.decode(new byte[0]).reason()).isEqualTo(RejectReason.UNDECODABLE);
        assertThat(ShakeEventCodec.decode(null).reason()).isEqualTo(RejectReason.UNDECODABLE);
    }

    @Test
    void shouldRejectEveryTruncationOfAValidRecord() {
        byte[] full = ShakeEventCodec.encode(SHAKE);
        for (int length = 0; length < full.length; length++) {
            DecodeResult decoded = ShakeEventCodec.decode(Arrays.copyOf(full, length));

            assertThat(decoded.isAccepted()).as("prefix of %d of %d bytes", length, full.length).isFalse();
            assertThat(decoded.reason()).isIn(RejectReason.UNDECODABLE, RejectReason.INVALID_FIELD);
            assertThat(decoded.detail()).isNotBlank();
        }
    }

    @Test
    void shouldRejectOversizedRecordsWithoutParsingThem() {
        byte[] huge = new byte[ShakeEventCodec.MAX_RECORD_BYTES + 1];
        huge[0] = ShakeEventCodec.FORMAT_V1;

        DecodeResult decoded = ShakeEventCodec.decode(huge);

        assertThat(decoded.reason()).isEqualTo(RejectReason.OVERSIZED);
        assertThat(decoded.detail()).contains(String.valueOf(huge.length));
    }

    @Test
    void shouldRejectUnknownFormatBytes() {
        for (int format = 0; format < 256; format++) {
            if (format == ShakeEventCodec.FORMAT_V1 || format == ShakeEventCodec.FORMAT_TICK) {
                continue;
            }
            byte[] value = ShakeEventCodec.encode(SHAKE);
            value[0] = (byte) format;

            assertThat(ShakeEventCodec.decode(value).reason()).isEqualTo(RejectReason.UNSUPPORTED_VERSION);
        }
    }

    @Test
    void shouldRoundTripATick() {
        byte[] value = ShakeEventCodec.encodeTick(1_801_000_001_000L, 0xfffffffe);

        DecodeResult decoded = ShakeEventCodec.decode(value);

        assertThat(value).hasSize(ShakeEventCodec.TICK_BYTES).startsWith(ShakeEventCodec.FORMAT_TICK);
        assertThat(decoded.isTick()).isTrue();
        assertThat(decoded.isAccepted()).as("a tick is no shake").isFalse();
        assertThat(decoded.isRejected()).as("nor a reject").isFalse();
        assertThat(decoded.reason()).isNull();
        assertThat(decoded.tickMs()).isEqualTo(1_801_000_001_000L);
        assertThat(decoded.tickGatewayId()).isEqualTo(0xfffffffe);
        assertThat(ShakeEventCodec.decode(ShakeEventCodec.encodeTick(1, 0)).tickMs()).isEqualTo(1);
        assertThat(ShakeEventCodec.decode(ShakeEventCodec.encodeTick(Long.MAX_VALUE, 0)).tickMs())
                .isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void shouldPinTheTickLayout() {
        assertThat(java.util.HexFormat.of().formatHex(ShakeEventCodec.encodeTick(0x0102030405060708L, 0x0a0b0c0d)))
                .isEqualTo("5401020304050607080a0b0c0d");
    }

    @Test
    void shouldRejectTicksOfAnyOtherLength() {
        byte[] tick = ShakeEventCodec.encodeTick(1_801_000_001_000L, 3);
        for (int length = 1; length < 40; length++) {
            if (length == ShakeEventCodec.TICK_BYTES) {
                continue;
            }
            byte[] value = Arrays.copyOf(tick, length);

            DecodeResult decoded = ShakeEventCodec.decode(value);

            assertThat(decoded.reason()).as("%d bytes", length).isEqualTo(RejectReason.UNDECODABLE);
            assertThat(decoded.detail()).contains(length + " bytes");
        }
        byte[] shakeBehindATickByte = ShakeEventCodec.encode(SHAKE);
        shakeBehindATickByte[0] = ShakeEventCodec.FORMAT_TICK;
        assertThat(ShakeEventCodec.decode(shakeBehindATickByte).reason()).isEqualTo(RejectReason.UNDECODABLE);
    }

    @Test
    void shouldRejectTicksWithoutAPositiveTime() {
        for (long time : new long[] {0, -1, Long.MIN_VALUE}) {
            byte[] value = java.nio.ByteBuffer.allocate(ShakeEventCodec.TICK_BYTES).put(ShakeEventCodec.FORMAT_TICK)
                    .putLong(time).putInt(1).array();

            DecodeResult decoded = ShakeEventCodec.decode(value);

            assertThat(decoded.reason()).as("time %d", time).isEqualTo(RejectReason.INVALID_FIELD);
            assertThat(decoded.isTick()).isFalse();
            assertThat(decoded.detail()).contains("tick time");
        }
    }

    @Test
    void shouldRejectCorruptBytes() {
        byte[] value = {ShakeEventCodec.FORMAT_V1, 0, 1, 2, 3};

        DecodeResult decoded = ShakeEventCodec.decode(value);

        assertThat(decoded.reason()).isEqualTo(RejectReason.UNDECODABLE);
        assertThat(decoded.detail()).startsWith("protobuf:");
    }

    @Test
    void shouldNeverThrowOnRandomBytes() {
        Random random = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            byte[] value = new byte[random.nextInt(80)];
            random.nextBytes(value);
            if (value.length > 0 && random.nextBoolean()) {
                value[0] = ShakeEventCodec.FORMAT_V1;
            }

            DecodeResult decoded = ShakeEventCodec.decode(value);

            assertThat(decoded.isAccepted() || decoded.isTick() || decoded.reason() != null).isTrue();
            if (decoded.isRejected()) {
                assertThat(decoded.detail()).isNotBlank();
            }
        }
    }

    @Test
    void shouldRejectBadFieldValues() {
        ShakeEventV1 valid = ShakeEventV1.newBuilder().setEventIdHi(1).setEventIdLo(2).setUserId(3).setDeviceId(4)
                .setRoundId(5).setChannelValue(1).setRegion("CN-BJ").setClientTsMs(10).setGatewayTsMs(11).build();
        assertThat(ShakeEventCodec.decode(ShakeEventCodec.withFormatByte(valid)).isAccepted()).isTrue();

        assertInvalid(valid.toBuilder().clearEventIdHi().clearEventIdLo().build(), "event_id");
        assertInvalid(valid.toBuilder().setUserId(0).build(), "user_id");
        assertInvalid(valid.toBuilder().setUserId(-5).build(), "user_id");
        assertInvalid(valid.toBuilder().setDeviceId(0).build(), "device_id");
        assertInvalid(valid.toBuilder().setRoundId(0).build(), "round_id");
        assertInvalid(valid.toBuilder().setChannelValue(0).build(), "channel");
        assertInvalid(valid.toBuilder().setChannelValue(99).build(), "channel");
        assertInvalid(valid.toBuilder().setRegion("").build(), "region");
        assertInvalid(valid.toBuilder().setRegion("cn-bj").build(), "region");
        assertInvalid(valid.toBuilder().setRegion("CN-" + "X".repeat(20)).build(), "region");
        assertInvalid(valid.toBuilder().setGatewayTsMs(-1).build(), "gateway_ts_ms");
        assertInvalid(valid.toBuilder().setClientTsMs(0).build(), "client_ts_ms");
        assertInvalid(valid.toBuilder().setDeviceSeq(0).build(), "device_seq");
    }

    private static void assertInvalid(ShakeEventV1 message, String field) {
        DecodeResult decoded = ShakeEventCodec.decode(ShakeEventCodec.withFormatByte(message));
        assertThat(decoded.reason()).as(field).isEqualTo(RejectReason.INVALID_FIELD);
        assertThat(decoded.detail()).contains(field);
    }
}
