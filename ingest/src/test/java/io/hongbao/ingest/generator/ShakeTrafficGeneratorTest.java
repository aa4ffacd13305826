package io.hongbao.ingest.generator;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.count.IntakeCounts;
import io.hongbao.ingest.count.ShakeTopicCounter;
import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.profile.RoundProfile;
import io.hongbao.ingest.testing.Datasets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ShakeTrafficGeneratorTest {
    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));

    @Test
    void shouldGiveTheSameBytesAndManifestForTheSameSeed() {
        List<GeneratedRecord> first = generate(7);
        List<GeneratedRecord> second = generate(7);

        assertThat(second).hasSameSizeAs(first);
        for (int i = 0; i < first.size(); i++) {
            assertThat(second.get(i).key()).isEqualTo(first.get(i).key());
            assertThat(second.get(i).value()).as("record %d", i).isEqualTo(first.get(i).value());
        }
        assertThat(manifest(second).toJson()).isEqualTo(manifest(first).toJson());
    }

    @Test
    void shouldGiveOtherBytesForAnotherSeed() {
        assertThat(manifest(generate(8)).recordsSha256).isNotEqualTo(manifest(generate(7)).recordsSha256);
    }

    @Test
    void shouldProduceEveryKindOfRecord() {
        Manifest manifest = manifest(generate(42));

        assertThat(manifest.recordsByKind.keySet()).isEqualTo(EnumSet.allOf(RecordKind.class));
        assertThat(manifest.expected.rejected().keySet()).isEqualTo(EnumSet.allOf(RejectReason.class));
        assertThat(manifest.records).isEqualTo(manifest.expected.records());
    }

    @Test
    void shouldProduceExactlyTheConfiguredPersonShakesPerRoundPlusBots() {
        Manifest manifest = manifest(generate(42));
        long botShakesPerRound = 2 * 20 * 10; // 2 bots, 20 per second, 10 s rounds

        for (RoundProfile round : TINY.rounds()) {
            assertThat(manifest.expected.rounds().get(round.id()).distinctEvents())
                    .isEqualTo(TINY.traffic().eventsPerRound() + botShakesPerRound);
        }
        assertThat(manifest.recordsByKind.get(RecordKind.BOT)).isEqualTo(2 * botShakesPerRound);
        long outOfWindow = Math.round(TINY.traffic().eventsPerRound() * TINY.traffic().outOfWindowShare());
        assertThat(manifest.recordsByKind.get(RecordKind.OUT_OF_WINDOW)).isEqualTo(2 * outOfWindow);
    }

    @Test
    void shouldPutTheBurstAtTheStartOfEachRound() {
        Manifest manifest = manifest(generate(42));
        RoundProfile round = TINY.round(1);
        long start = TINY.roundStartMs(round);
        List<GeneratedRecord> records = generate(42);
        long firstTwoSeconds = records.stream().filter(r -> r.kind() == RecordKind.VALID && r.event().roundId == 1
                && r.event().gatewayTsMs < start + 2_000).count();
        long lastTwoSeconds = records.stream().filter(r -> r.kind() == RecordKind.VALID && r.event().roundId == 1
                && r.event().gatewayTsMs >= start + 8_000).count();

        assertThat(firstTwoSeconds).isGreaterThan(4 * lastTwoSeconds);
        assertThat(manifest.expected.rounds().get(1).byMinute()).isNotEmpty();
    }

    @Test
    void shouldAgreeWithWhatTheDecoderMakesOfEveryRecord() {
        List<GeneratedRecord> records = generate(42);
        ShakeTopicCounter counter = new ShakeTopicCounter(new java.util.Properties(), TINY.windows());
        IntakeCounts decoded = new IntakeCounts();
        Set<ShakeTopicCounter.EventKey> seen = new HashSet<>();
        for (GeneratedRecord record : records) {
            counter.count(record.value(), decoded, seen);
            DecodeResult result = ShakeEventCodec.decode(record.value());
            RejectReason reason = result.isAccepted() ? TINY.windows().check(result.event()) : result.reason();
            assertThat(reason).as("%s record", record.kind()).isEqualTo(record.kind().expectedReason());
        }

        assertThat(decoded).isEqualTo(manifest(records).expected);
    }

    @Test
    void shouldSendRetriesAsTheSameBytesAfterTheOriginal() {
        List<GeneratedRecord> records = generate(42);
        Map<String, Integer> firstSeen = new HashMap<>();
        int retries = 0;
        for (int i = 0; i < records.size(); i++) {
            GeneratedRecord r = records.get(i);
            String value = Arrays.toString(r.value());
            if (r.kind() == RecordKind.VALID) {
                firstSeen.put(value, i);
            } else if (r.kind() == RecordKind.RETRY) {
                retries++;
                assertThat(firstSeen).containsKey(value);
            }
        }
        assertThat(retries).isPositive();
    }

    @Test
    void shouldKeepFirstDeliveriesOutOfOrderByLessThanASlot() {
        long latest = 0;
        for (GeneratedRecord r : generate(42)) {
            if (r.kind() == RecordKind.VALID || r.kind() == RecordKind.BOT) {
                assertThat(r.event().gatewayTsMs).isGreaterThan(latest - ShakeTrafficGenerator.SLOT_MS);
                latest = Math.max(latest, r.event().gatewayTsMs);
            }
        }
    }

    @Test
    void shouldKeepEachUsersChannelRegionAndDevice() {
        Map<Long, String> attributes = new HashMap<>();
        for (GeneratedRecord r : generate(42)) {
            if (r.kind() == RecordKind.VALID) {
                String a = r.event().channel + "/" + r.event().region + "/" + r.event().deviceId;
                assertThat(attributes.computeIfAbsent(r.event().userId, u -> a)).isEqualTo(a);
            }
        }
        assertThat(attributes.size()).isGreaterThan(100);
    }

    static List<GeneratedRecord> generate(long seed) {
        List<GeneratedRecord> records = new ArrayList<>();
        new ShakeTrafficGenerator(TINY, seed, 0).generate(records::add);
        return records;
    }

    static Manifest manifest(List<GeneratedRecord> records) {
        Manifest manifest = new Manifest();
        records.forEach(manifest);
        return manifest.finish();
    }
}
