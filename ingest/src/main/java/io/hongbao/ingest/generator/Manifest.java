package io.hongbao.ingest.generator;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.hongbao.ingest.count.IntakeCounts;
import io.hongbao.ingest.event.ShakeEventCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Exactly what a generator run produced: how the run was made, a SHA-256 over every record in order, records
 * per kind, and the {@link IntakeCounts} a correct pipeline must arrive at. Written as JSON next to the run
 * so tests and the reconciliation can check figures exactly.
 *
 * <p>Gateway ticks are in the digest (with their partition) but nowhere else: {@code records},
 * {@code records_by_kind} and {@code expected} are the shakes and rejects only, whether ticks were written
 * or not; {@code ticks} counts the tick records (one per partition per tick) and {@code last_tick_ms} is the
 * final tick's gateway time.
 */
@JsonPropertyOrder({"profile", "seed", "topic", "partitions", "events_per_round", "records", "records_sha256",
    "records_by_kind", "bot_devices", "tick_interval_ms", "ticks", "last_tick_ms", "expected"})
public final class Manifest implements Consumer<GeneratedRecord> {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    @JsonProperty("profile")
    public String profile;

    @JsonProperty("seed")
    public long seed;

    @JsonProperty("topic")
    public String topic;

    @JsonProperty("partitions")
    public int partitions;

    @JsonProperty("events_per_round")
    public long eventsPerRound;

    @JsonProperty("records")
    public long records;

    @JsonProperty("records_sha256")
    public String recordsSha256;

    @JsonProperty("records_by_kind")
    public TreeMap<RecordKind, Long> recordsByKind = new TreeMap<>();

    @JsonProperty("bot_devices")
    public int botDevices;

    /** Gateway time between ticks; 0 when the run wrote none. */
    @JsonProperty("tick_interval_ms")
    public long tickIntervalMs;

    /** Tick records written (each tick once per partition); not in {@code records}. */
    @JsonProperty("ticks")
    public long ticks;

    /** The gateway time of the last tick; 0 when none. */
    @JsonProperty("last_tick_ms")
    public long lastTickMs;

    /** What the pipeline must count: distinct valid shakes per round/channel/region/minute, rejects per reason. */
    @JsonProperty("expected")
    public IntakeCounts expected = new IntakeCounts();

    private final transient MessageDigest digest = sha256();

    @Override
    public void accept(GeneratedRecord record) {
        if (record.isTick()) {
            ticks++;
            lastTickMs = Math.max(lastTickMs, ShakeEventCodec.decode(record.value()).tickMs());
            digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(record.partition()).array());
            digest.update(record.value());
            return;
        }
        records++;
        recordsByKind.merge(record.kind(), 1L, Long::sum);
        switch (record.kind()) {
            case VALID, BOT -> expected.countDistinct(record.event());
            case RETRY -> expected.countDuplicate();
            default -> expected.countRejected(record.kind().expectedReason());
        }
        digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(record.key().length).array());
        digest.update(record.key());
        digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(record.value().length).array());
        digest.update(record.value());
    }

    /** Seals the digest; call once after the last record. */
    public Manifest finish() {
        recordsSha256 = HexFormat.of().formatHex(digest.digest());
        return this;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void write(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, ".manifest", ".json");
            Files.writeString(tmp, toJson() + System.lineSeparator());
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write manifest " + file, e);
        }
    }

    public static Manifest read(Path file) {
        try {
            return JSON.readValue(file.toFile(), Manifest.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read manifest " + file, e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
