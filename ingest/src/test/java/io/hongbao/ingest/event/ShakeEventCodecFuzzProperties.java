package io.hongbao.ingest.event;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.wire.v1.ShakeEventV1;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Fuzzes the decoder, the first code every untrusted byte meets: whatever arrives, {@link ShakeEventCodec#decode}
 * returns (never throws), and a rejection always names its reason and says why. Three generators: raw bytes,
 * valid records mutated byte-wise (flips, cuts, insertions, splices), and well-formed protobuf with arbitrary
 * field values. Tries per property: {@code jqwik.tries.default} (5,000 in CI; see ingest/README.md for the long
 * run with millions).
 */
class ShakeEventCodecFuzzProperties {

    @Property
    void arbitraryBytesNeverEscapeTheDecoder(@ForAll @Size(max = 600) byte[] value) {
        checkOutcome(value, ShakeEventCodec.decode(value));
    }

    @Property
    void mutatedRecordsNeverEscapeTheDecoder(@ForAll("mutatedRecords") byte[] value) {
        checkOutcome(value, ShakeEventCodec.decode(value));
    }

    @Property
    void everyFieldValueIsAcceptedOnlyWithinTheRules(@ForAll("anyFieldValues") ShakeEventV1 message) {
        byte[] value = ShakeEventCodec.withFormatByte(message);
        DecodeResult result = ShakeEventCodec.decode(value);
        checkOutcome(value, result);
        if (result.isAccepted()) {
            assertThat(ShakeEventCodec.decode(ShakeEventCodec.encode(result.event())).event())
                    .usingRecursiveComparison().isEqualTo(result.event());
        } else {
            assertThat(result.reason()).isIn(RejectReason.INVALID_FIELD, RejectReason.OVERSIZED);
        }
    }

    /**
     * The contract: a verdict, never an exception; an accepted event obeys the field rules; a tick is exactly a
     * well-formed tick; a rejection says why.
     */
    static void checkOutcome(byte[] value, DecodeResult result) {
        assertThat(result).isNotNull();
        if (result.isAccepted()) {
            ShakeEvent e = result.event();
            assertThat(value[0]).isEqualTo(ShakeEventCodec.FORMAT_V1);
            assertThat(value.length).isLessThanOrEqualTo(ShakeEventCodec.MAX_RECORD_BYTES);
            assertThat(e.eventIdHi != 0 || e.eventIdLo != 0).as("event id present").isTrue();
            assertThat(e.userId).isPositive();
            assertThat(e.deviceId).isNotZero();
            assertThat(e.roundId).isPositive();
            assertThat(e.channel).isNotNull();
            assertThat(ShakeEventCodec.isRegionCode(e.region)).as("region %s", e.region).isTrue();
            assertThat(e.gatewayTsMs).isPositive();
            assertThat(e.clientTsMs).isPositive();
        } else if (result.isTick()) {
            assertThat(value).hasSize(ShakeEventCodec.TICK_BYTES).startsWith(ShakeEventCodec.FORMAT_TICK);
            assertThat(result.tickMs()).isPositive();
            assertThat(result.reason()).isNull();
            assertThat(ShakeEventCodec.encodeTick(result.tickMs(), result.tickGatewayId())).isEqualTo(value);
        } else {
            assertThat(result.reason()).as("rejection reason").isNotNull();
            assertThat(result.detail()).as("rejection detail").isNotBlank();
        }
    }

    @Property
    void mutatedTicksNeverEscapeTheDecoder(@ForAll("mutatedTicks") byte[] value) {
        checkOutcome(value, ShakeEventCodec.decode(value));
    }

    @Provide
    Arbitrary<byte[]> mutatedTicks() {
        Arbitrary<byte[]> valid = Combinators.combine(Arbitraries.longs().greaterOrEqual(1), Arbitraries.integers())
                .as(ShakeEventCodec::encodeTick);
        return Combinators.combine(valid, Arbitraries.integers().between(1, 4), Arbitraries.longs())
                .as(ShakeEventCodecFuzzProperties::mutate);
    }

    @Provide
    Arbitrary<byte[]> mutatedRecords() {
        Arbitrary<byte[]> valid = validEvents().map(ShakeEventCodec::encode);
        return Combinators.combine(valid, Arbitraries.integers().between(1, 8), Arbitraries.longs())
                .as(ShakeEventCodecFuzzProperties::mutate);
    }

    /** {@code rounds} random byte-level edits of {@code value}, driven by {@code seed}. */
    private static byte[] mutate(byte[] value, int rounds, long seed) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        byte[] out = value;
        for (int i = 0; i < rounds; i++) {
            int at = out.length == 0 ? 0 : rng.nextInt(out.length);
            switch (rng.nextInt(5)) {
                case 0 -> { // flip bits
                    if (out.length > 0) {
                        out = out.clone();
                        out[at] ^= (byte) (1 + rng.nextInt(255));
                    }
                }
                case 1 -> out = Arrays.copyOf(out, at); // cut short
                case 2 -> { // insert random bytes
                    byte[] inserted = new byte[1 + rng.nextInt(16)];
                    rng.nextBytes(inserted);
                    out = splice(out, at, inserted);
                }
                case 3 -> out = splice(out, at, Arrays.copyOfRange(out, at, out.length)); // repeat a tail
                default -> { // an interesting varint or length byte
                    if (out.length > 0) {
                        out = out.clone();
                        out[at] = (byte) List.of(0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12).get(rng.nextInt(6)).intValue();
                    }
                }
            }
        }
        return out;
    }

    private static byte[] splice(byte[] value, int at, byte[] inserted) {
        byte[] out = new byte[value.length + inserted.length];
        System.arraycopy(value, 0, out, 0, at);
        System.arraycopy(inserted, 0, out, at, inserted.length);
        System.arraycopy(value, at, out, at + inserted.length, value.length - at);
        return out;
    }

    private static Arbitrary<ShakeEvent> validEvents() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.longs().greaterOrEqual(1),
                Arbitraries.longs().filter(d -> d != 0), Arbitraries.integers().greaterOrEqual(1),
                Arbitraries.of(Channel.class), Arbitraries.strings().withChars("ABCZ019-").ofMinLength(1).ofMaxLength(16),
                Arbitraries.longs().greaterOrEqual(1), Arbitraries.longs().between(0, 1_000_000))
                .as((id, user, device, round, channel, region, ts, seq) -> new ShakeEvent(id | 1, id >>> 1, user, device,
                        round, channel, region, ts, ts + 250, seq == 0 ? ShakeEvent.NO_SEQUENCE : seq));
    }

    @Provide
    Arbitrary<ShakeEventV1> anyFieldValues() {
        Arbitrary<Long> anyLong = Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.of(0L, 1L, -1L, Long.MIN_VALUE));
        Arbitrary<String> region = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(20),
                Arbitraries.strings().withChars("ABZ09-az_ é").ofMaxLength(18));
        return Combinators.combine(anyLong, anyLong, anyLong, anyLong, Arbitraries.integers(),
                Arbitraries.integers().between(-1, 7), region, anyLong)
                .as((hi, lo, user, device, round, channel, reg, ts) -> {
                    ShakeEventV1.Builder b = ShakeEventV1.newBuilder().setEventIdHi(hi).setEventIdLo(lo)
                            .setUserId(user).setDeviceId(device).setRoundId(round).setChannelValue(channel)
                            .setRegion(reg).setClientTsMs(ts).setGatewayTsMs(ts ^ lo);
                    if ((hi & 3) == 0) {
                        b.setDeviceSeq(lo);
                    }
                    return b.build();
                });
    }
}
