package io.hongbao.ingest.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.count.IntakeCounts;
import io.hongbao.ingest.count.ShakeTopicCounter;
import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.generator.GeneratedRecord;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.testing.EmbeddedKafka;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The generator and the counter against a real Kafka broker, through the command line operators use. */
class IngestCliKafkaITCase {
    @RegisterExtension
    static final EmbeddedKafka KAFKA = new EmbeddedKafka();

    private static final Path TINY = Datasets.file("tiny.yaml");

    @TempDir
    Path dir;

    @Test
    void shouldReadBackExactlyWhatTheManifestSays() throws Exception {
        String topic = EmbeddedKafka.freshTopic("shakes");
        Path manifestFile = dir.resolve("manifest.json");
        Path reportFile = dir.resolve("report.json");

        int generated = IngestCli.run("generate", "--bootstrap-servers", KAFKA.bootstrapServers(), "--profile",
                TINY.toString(), "--topic", topic, "--seed", "11", "--manifest", manifestFile.toString());
        int counted = IngestCli.run("count", "--bootstrap-servers", KAFKA.bootstrapServers(), "--profile",
                TINY.toString(), "--topic", topic, "--manifest", manifestFile.toString(), "--report",
                reportFile.toString());

        assertThat(generated).isZero();
        assertThat(counted).isZero();
        Manifest manifest = Manifest.read(manifestFile);
        assertThat(manifest.topic).isEqualTo(topic);
        assertThat(manifest.partitions).isEqualTo(4);
        assertThat(manifest.expected.distinctValidEvents()).isPositive();
        assertThat(Files.readString(reportFile)).contains("\"matches_manifest\" : true");

        // Independently of the counter: the broker holds exactly the generated records, each once.
        IntakeCounts counts = new ShakeTopicCounter(KAFKA.clientProperties(), GalaProfile.load(TINY).windows())
                .count(topic, Duration.ofMinutes(1));
        assertThat(counts).isEqualTo(manifest.expected);
        assertThat(readAll(topic)).isEqualTo(regenerate(11));
        assertThat(manifest.tickIntervalMs).isEqualTo(1_000);
        assertThat(manifest.ticks).isPositive();
        assertThat(Files.readString(reportFile)).contains("\"ticks\" : " + manifest.ticks);

        // Every partition's ticks, in partition order, rise and end past the last round (the default is on).
        long lastEnd = GalaProfile.load(TINY).rounds().stream().mapToLong(GalaProfile.load(TINY)::roundEndMs).max()
                .orElseThrow();
        Map<Integer, List<Long>> ticks = new TreeMap<>();
        for (var r : KAFKA.readAll(topic)) {
            DecodeResult decoded = ShakeEventCodec.decode(r.value());
            if (decoded.isTick()) {
                ticks.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(decoded.tickMs());
            }
        }
        assertThat(ticks.keySet()).containsExactly(0, 1, 2, 3);
        for (List<Long> times : ticks.values()) {
            assertThat(times).isSorted().doesNotHaveDuplicates();
            assertThat(times.get(times.size() - 1)).isEqualTo(manifest.lastTickMs).isGreaterThan(lastEnd);
        }
    }

    @Test
    void shouldPutEveryPartitionsRecordsInTheSameOrderThroughSeveralProducers() throws Exception {
        String one = EmbeddedKafka.freshTopic("shakes");
        String three = EmbeddedKafka.freshTopic("shakes");
        Path oneManifest = dir.resolve("one.json");
        Path threeManifest = dir.resolve("three.json");
        IngestCli.run("generate", "--bootstrap-servers", KAFKA.bootstrapServers(), "--profile", TINY.toString(),
                "--topic", one, "--seed", "5", "--manifest", oneManifest.toString());

        // Three lanes over four partitions (lane 0 has two), generation at most a few chunks ahead of them.
        int generated = IngestCli.run("generate", "--bootstrap-servers", KAFKA.bootstrapServers(), "--profile",
                TINY.toString(), "--topic", three, "--seed", "5", "--manifest", threeManifest.toString(),
                "--producers", "3", "--ahead-records", "1000");
        int counted = IngestCli.run("count", "--bootstrap-servers", KAFKA.bootstrapServers(), "--profile",
                TINY.toString(), "--topic", three, "--manifest", threeManifest.toString());

        assertThat(generated).isZero();
        assertThat(counted).isZero();
        assertThat(Files.readString(threeManifest).replace(three, one)).isEqualTo(Files.readString(oneManifest));
        assertThat(byPartitionInOrder(three)).isEqualTo(byPartitionInOrder(one));
    }

    @Test
    void shouldFailTheCheckAgainstAnotherRunsManifest() throws Exception {
        String topic = EmbeddedKafka.freshTopic("shakes");
        Path produced = dir.resolve("produced.json");
        Path other = dir.resolve("other.json");
        IngestCli.run("generate", "--bootstrap-servers", KAFKA.bootstrapServers(), "--profile", TINY.toString(),
                "--topic", topic, "--seed", "1", "--manifest", produced.toString(), "--tick-interval", "PT0S");
        IngestCli.run("generate", "--dry-run", "--profile", TINY.toString(), "--seed", "2", "--manifest",
                other.toString());

        int counted = IngestCli.run("count", "--bootstrap-servers", KAFKA.bootstrapServers(), "--profile",
                TINY.toString(), "--topic", topic, "--manifest", other.toString());

        assertThat(counted).isEqualTo(1);
        assertThat(Manifest.read(produced).ticks).isZero();
        assertThat(KAFKA.readAll(topic)).noneMatch(r -> ShakeEventCodec.decode(r.value()).isTick());
    }

    @Test
    void shouldFailClearlyOnAMissingProfile() {
        int exit = IngestCli.run("generate", "--dry-run", "--profile", dir.resolve("nope.yaml").toString(),
                "--manifest", dir.resolve("m.json").toString());

        assertThat(exit).isEqualTo(1);
    }

    private static Map<String, Integer> regenerate(long seed) {
        List<GeneratedRecord> records = new ArrayList<>();
        new ShakeTrafficGenerator(GalaProfile.load(TINY), seed, 0).withTicks(4, Duration.ofSeconds(1))
                .generate(records::add);
        Map<String, Integer> out = new HashMap<>();
        records.forEach(r -> out.merge(key(r.key(), r.partition(), r.value()), 1, Integer::sum));
        return out;
    }


    private static Map<String, Integer> readAll(String topic) {
        Map<String, Integer> out = new HashMap<>();
        KAFKA.readAll(topic).forEach(r -> out.merge(key(r.key(),
                r.key() == null ? r.partition() : GeneratedRecord.BY_KEY, r.value()), 1, Integer::sum));
        return out;
    }

    /** Each partition's values, in offset order. */
    private static Map<Integer, List<String>> byPartitionInOrder(String topic) {
        Map<Integer, List<String>> out = new TreeMap<>();
        KAFKA.readAll(topic).forEach(r -> out.computeIfAbsent(r.partition(), p -> new ArrayList<>())
                .add(java.util.HexFormat.of().formatHex(r.value())));
        return out;
    }

    /** A shake by its key (user id), a tick (no key) by the partition it names. */
    private static String key(byte[] key, int partition, byte[] value) {
        String where = key == null ? "tick@" + partition : String.valueOf(ByteBuffer.wrap(key).getLong());
        return where + ":" + java.util.HexFormat.of().formatHex(value);
    }
}
