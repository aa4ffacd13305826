package io.hongbao.ingest.bench;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.wire.avro.AvroChannel;
import io.hongbao.ingest.wire.avro.AvroShakeEventV1;
import io.hongbao.ingest.wire.avro.EventId128;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * The shake event in Avro, the measured alternative to the Protobuf wire format (test code only): the same
 * leading format byte ({@link ShakeEventCodec#FORMAT_V1}), then Avro binary of {@link AvroShakeEventV1}, no
 * single-object header.
 *
 * <p>Avro's fastest idiomatic path: generated SpecificRecord, one reused {@link SpecificDatumWriter} and
 * {@link SpecificDatumReader}, a buffered {@link BinaryEncoder} bound once to a reused output stream, a
 * {@link BinaryDecoder} reused through {@link DecoderFactory}, and a reused record on both sides. Not
 * thread-safe: one instance per thread.
 *
 * <p>Custom coders: the generated class has {@code customEncode}/{@code customDecode}, but Avro 1.12.1 only
 * uses them when {@link SpecificData#useCustomCoders()} is true, and it is false unless the system property
 * {@value #CUSTOM_CODERS_PROPERTY} is {@code true} (see {@code SpecificData}'s constructor; AVRO-3076). Without
 * them the writer goes field by field through {@code get(int)}, boxing every long. {@link #AvroShakeCodec()}
 * turns them on for its own {@link SpecificData}, the fast configuration; {@link #AvroShakeCodec(boolean)}
 * measures either.
 *
 * <p>{@link #decodeChecked} mirrors {@link ShakeEventCodec#decode} step for step (size limit, format byte,
 * parse errors caught, the same field rules) so the two decode-and-validate paths do the same work.
 */
public final class AvroShakeCodec {
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    /**
     * How the writer and reader run: Avro 1.12.1 has two switches per {@link SpecificData}. Custom coders
     * (system property {@code org.apache.avro.specific.use_custom_coders}, default false) make the writer call
     * the generated {@code customEncode} and, only when the fast reader is off, the reader call
     * {@code customDecode}; otherwise the writer goes field by field through {@code get(int)}, boxing the
     * longs. The fast reader ({@code org.apache.avro.fastread}, default true) reads through a
     * {@code FastReaderBuilder} tree of lambdas and ignores the custom coders.
     */
    public enum Config {
        /** Avro 1.12.1 out of the box: custom coders off, fast reader on. */
        DEFAULTS(false, true),
        /** Generated custom coders both ways: custom coders on, fast reader off. */
        CUSTOM_CODERS(true, false),
        /** Custom coders for writing, the fast reader for reading. */
        CUSTOM_WRITE_FAST_READ(true, true);

        /** The configuration the benchmark reports as Avro's. */
        public static final Config FASTEST = CUSTOM_CODERS;

        final boolean customCoders;
        final boolean fastReader;

        Config(boolean customCoders, boolean fastReader) {
            this.customCoders = customCoders;
            this.fastReader = fastReader;
        }
    }

    private final SpecificDatumWriter<AvroShakeEventV1> writer;
    private final SpecificDatumReader<AvroShakeEventV1> reader;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    /** Bound to {@link #out} once: re-binding per event ({@code binaryEncoder(out, reuse)}) allocates a sink. */
    private final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    private final AvroShakeEventV1 toWrite = new AvroShakeEventV1();
    private final EventId128 eventIdToWrite = new EventId128();
    private BinaryDecoder decoder;
    private AvroShakeEventV1 read;

    /** Avro's fastest configuration for this record; see {@link Config#FASTEST}. */
    public AvroShakeCodec() {
        this(Config.FASTEST);
    }

    public AvroShakeCodec(Config config) {
        SpecificData model = new SpecificData(AvroShakeEventV1.class.getClassLoader());
        model.setCustomCoders(config.customCoders);
        model.setFastReaderEnabled(config.fastReader);
        Schema schema = AvroShakeEventV1.getClassSchema();
        writer = new SpecificDatumWriter<>(schema, model);
        reader = new SpecificDatumReader<>(schema, schema, model);
    }

    /** Domain event to format byte + Avro binary; a fresh array, like {@link ShakeEventCodec#encode}. */
    public byte[] encode(ShakeEvent e) {
        byte[] id = eventIdToWrite.bytes();
        LONG_BE.set(id, 0, e.eventIdHi);
        LONG_BE.set(id, 8, e.eventIdLo);
        toWrite.setEventId(eventIdToWrite);
        toWrite.setUserId(e.userId);
        toWrite.setDeviceId(e.deviceId);
        toWrite.setRoundId(e.roundId);
        toWrite.setChannel(e.channel == null ? AvroChannel.UNSPECIFIED : AvroChannel.values()[e.channel.ordinal() + 1]);
        toWrite.setRegion(e.region == null ? "" : e.region);
        toWrite.setClientTsMs(e.clientTsMs);
        toWrite.setGatewayTsMs(e.gatewayTsMs);
        toWrite.setDeviceSeq(e.hasDeviceSeq() ? e.deviceSeq : null);
        out.reset();
        out.write(ShakeEventCodec.FORMAT_V1);
        try {
            writer.write(toWrite, encoder);
            encoder.flush();
        } catch (IOException impossible) {
            throw new UncheckedIOException("writing to memory failed", impossible);
        }
        return out.toByteArray();
    }

    /**
     * Bytes after the format byte to the (reused) Avro record: no checks, no mapping. The returned record is
     * overwritten by the next call.
     */
    public AvroShakeEventV1 parse(byte[] value) throws IOException {
        decoder = DecoderFactory.get().binaryDecoder(value, 1, value.length - 1, decoder);
        read = reader.read(read, decoder);
        return read;
    }

    /** Bytes to the domain event: {@link #parse} and mapping, no validation (the input is trusted). */
    public ShakeEvent decode(byte[] value) {
        try {
            return toEvent(parse(value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes to an accepted or rejected result, with the same checks and rules as {@link ShakeEventCodec#decode}. */
    public DecodeResult decodeChecked(byte[] value) {
        if (value == null || value.length == 0) {
            return DecodeResult.rejected(RejectReason.UNDECODABLE, "empty record value");
        }
        if (value.length > ShakeEventCodec.MAX_RECORD_BYTES) {
            return DecodeResult.rejected(RejectReason.OVERSIZED,
                    value.length + " bytes, limit " + ShakeEventCodec.MAX_RECORD_BYTES);
        }
        if (value[0] != ShakeEventCodec.FORMAT_V1) {
            return DecodeResult.rejected(RejectReason.UNSUPPORTED_VERSION, "format byte " + (value[0] & 0xff));
        }
        AvroShakeEventV1 a;
        try {
            a = parse(value);
        } catch (IOException | RuntimeException e) {
            return DecodeResult.rejected(RejectReason.UNDECODABLE, "avro: " + e.getMessage());
        }
        String invalid = invalidField(a);
        if (invalid != null) {
            return DecodeResult.rejected(RejectReason.INVALID_FIELD, invalid);
        }
        return DecodeResult.accepted(toEvent(a));
    }

    private static ShakeEvent toEvent(AvroShakeEventV1 a) {
        byte[] id = a.getEventId().bytes();
        Long seq = a.getDeviceSeq();
        return new ShakeEvent((long) LONG_BE.get(id, 0), (long) LONG_BE.get(id, 8), a.getUserId(),
                a.getDeviceId(), a.getRoundId(), Channel.values()[a.getChannel().ordinal() - 1], a.getRegion(),
                a.getClientTsMs(), a.getGatewayTsMs(), seq == null ? ShakeEvent.NO_SEQUENCE : seq);
    }

    /** {@code ShakeEventCodec.invalidField}, the same rules in the same order, on the Avro record. */
    private static String invalidField(AvroShakeEventV1 a) {
        byte[] id = a.getEventId().bytes();
        if ((long) LONG_BE.get(id, 0) == 0 && (long) LONG_BE.get(id, 8) == 0) {
            return "event_id missing";
        }
        if (a.getUserId() <= 0) {
            return "user_id must be positive, was " + Long.toUnsignedString(a.getUserId());
        }
        if (a.getDeviceId() == 0) {
            return "device_id missing";
        }
        if (a.getRoundId() <= 0) {
            return "round_id must be positive, was " + Integer.toUnsignedString(a.getRoundId());
        }
        if (a.getChannel() == AvroChannel.UNSPECIFIED) {
            return "channel " + a.getChannel() + " unknown";
        }
        if (!isRegionCode(a.getRegion())) {
            return "region must be 1-" + ShakeEventCodec.MAX_REGION_CHARS + " chars of [A-Z0-9-]";
        }
        if (a.getGatewayTsMs() <= 0) {
            return "gateway_ts_ms must be positive";
        }
        if (a.getClientTsMs() <= 0) {
            return "client_ts_ms must be positive";
        }
        Long seq = a.getDeviceSeq();
        if (seq != null && seq <= 0) {
            return "device_seq must be positive when present";
        }
        return null;
    }

    /** {@code ShakeEventCodec.isRegionCode} (package-private there), the same loop. */
    private static boolean isRegionCode(String region) {
        int n = region.length();
        if (n == 0 || n > ShakeEventCodec.MAX_REGION_CHARS) {
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
}
