package io.hongbao.ingest.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The schema benchmark compares two correct codecs: Avro round-trips what Protobuf round-trips. */
class AvroShakeCodecTest {
    private static ShakeEvent[] sample;

    @BeforeAll
    static void generateSample() {
        sample = SchemaCodecBenchmark.sample(2_000);
    }

    @ParameterizedTest
    @EnumSource(AvroShakeCodec.Config.class)
    void shouldRoundTripGeneratedShakesToEqualEvents(AvroShakeCodec.Config config) {
        AvroShakeCodec avro = new AvroShakeCodec(config);

        assertThat(sample).hasSize(2_000).doesNotContainNull();
        for (ShakeEvent e : sample) {
            byte[] value = avro.encode(e);

            assertThat(value[0]).isEqualTo(ShakeEventCodec.FORMAT_V1);
            assertThat(avro.decode(value)).isEqualTo(e);
            DecodeResult checked = avro.decodeChecked(value);
            assertThat(checked.isAccepted()).as("%s: %s", e, checked).isTrue();
            assertThat(checked.event()).isEqualTo(e);
            assertThat(ShakeEventCodec.decode(ShakeEventCodec.encode(e)).event()).isEqualTo(e);
        }
    }

    @Test
    void shouldWriteTheSameBytesWithAndWithoutCustomCoders() {
        AvroShakeCodec custom = new AvroShakeCodec(AvroShakeCodec.Config.CUSTOM_CODERS);
        AvroShakeCodec generic = new AvroShakeCodec(AvroShakeCodec.Config.DEFAULTS);

        for (ShakeEvent e : sample) {
            assertThat(custom.encode(e)).isEqualTo(generic.encode(e));
        }
    }

    @Test
    void shouldNotLetTheReusedRecordLeakIntoEarlierResults() {
        AvroShakeCodec avro = new AvroShakeCodec();
        byte[] first = avro.encode(sample[0]);
        byte[] second = avro.encode(sample[1]);

        ShakeEvent a = avro.decode(first);
        ShakeEvent b = avro.decode(second);

        assertThat(a).isEqualTo(sample[0]);
        assertThat(b).isEqualTo(sample[1]);
    }

    @ParameterizedTest
    @EnumSource(Channel.class)
    void shouldRoundTripEveryChannel(Channel channel) {
        ShakeEvent e = sample[0].copy();
        e.channel = channel;
        AvroShakeCodec avro = new AvroShakeCodec();

        assertThat(avro.decodeChecked(avro.encode(e)).event()).isEqualTo(e);
    }

    @Test
    void shouldRoundTripAbsentSequenceAndExtremeValues() {
        ShakeEvent e = new ShakeEvent(-1L, 1L, Long.MAX_VALUE, -1L, Integer.MAX_VALUE, Channel.MINI_PROGRAM,
                "A".repeat(ShakeEventCodec.MAX_REGION_CHARS), 1L, Long.MAX_VALUE, ShakeEvent.NO_SEQUENCE);
        AvroShakeCodec avro = new AvroShakeCodec();

        ShakeEvent decoded = avro.decodeChecked(avro.encode(e)).event();

        assertThat(decoded).isEqualTo(e);
        assertThat(decoded.hasDeviceSeq()).isFalse();
    }

    @Test
    void shouldRejectWhatTheProtobufCodecRejects() {
        AvroShakeCodec avro = new AvroShakeCodec();
        ShakeEvent badRegion = sample[0].copy();
        badRegion.region = "cn-gd";
        ShakeEvent noChannel = sample[0].copy();
        noChannel.channel = null;
        byte[] wrongFormat = avro.encode(sample[0]);
        wrongFormat[0] = 2;
        byte[] cut = Arrays.copyOf(avro.encode(sample[0]), 9);

        assertThat(avro.decodeChecked(new byte[0]).reason()).isEqualTo(RejectReason.UNDECODABLE);
        assertThat(avro.decodeChecked(wrongFormat).reason()).isEqualTo(RejectReason.UNSUPPORTED_VERSION);
        assertThat(avro.decodeChecked(cut).reason()).isEqualTo(RejectReason.UNDECODABLE);
        assertThat(avro.decodeChecked(new byte[ShakeEventCodec.MAX_RECORD_BYTES + 1]).reason())
                .isEqualTo(RejectReason.OVERSIZED);
        assertThat(avro.decodeChecked(avro.encode(badRegion)).reason()).isEqualTo(RejectReason.INVALID_FIELD);
        assertThat(avro.decodeChecked(avro.encode(noChannel)).reason()).isEqualTo(RejectReason.INVALID_FIELD);
        assertThat(avro.decodeChecked(avro.encode(sample[1])).isAccepted()).isTrue();
    }
}
