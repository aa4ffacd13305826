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
import java.util.TreeMap;
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
        Manifest manifest = manifest(generateWithTicks(42));

        assertThat(manifest.recordsByKind.keySet()).isEqualTo(EnumSet.complementOf(EnumSet.of(RecordKind.TICK)));
        // Every reason a record can carry on the topic; LATE and EVENT_ID_REUSED arise in the payout job only.
        assertThat(manifest.expected.rejected().keySet()).isEqualTo(java.util.Arrays.stream(RecordKind.values())
                .map(RecordKind::expectedReason).filter(java.util.Objects::nonNull)
                .collect(java.util.stream.Collectors.toCollection(() -> EnumSet.noneOf(RejectReason.class))));
        assertThat(manifest.records).isEqualTo(manifest.expected.records());
        assertThat(manifest.ticks).isPositive();
    }

    @Test
    void shouldTickEveryPartitionAtEachIntervalAndOncePastTheLastRound() {
        List<GeneratedRecord> records = generateWithTicks(42);
        long lastEnd = TINY.rounds().stream().mapToLong(TINY::roundEndMs).max().orElseThrow();
        long latestShake = records.stream().filter(r -> r.event() != null).mapToLong(r -> r.event().gatewayTsMs)
                .max().orElseThrow();
        Map<Integer, List<Long>> ticksByPartition = new TreeMap<>();
        for (GeneratedRecord r : records) {
            if (r.isTick()) {
                assertThat(r.key()).isNull();
                ticksByPartition.computeIfAbsent(r.partition(), p -> new ArrayList<>())
                        .add(ShakeEventCodec.decode(r.value()).tickMs());
            } else {
                assertThat(r.partition()).isEqualTo(GeneratedRecord.BY_KEY);
            }
        }

        assertThat(ticksByPartition.keySet()).containsExactly(0, 1, 2, 3);
        List<Long> times = ticksByPartition.get(0);
        for (List<Long> other : ticksByPartition.values()) {
            assertThat(other).as("every partition gets every tick").isEqualTo(times);
        }
        for (int i = 1; i < times.size() - 1; i++) {
            assertThat(times.get(i) - times.get(i - 1)).as("tick %d", i).isEqualTo(TICK_INTERVAL_MS);
            assertThat(times.get(i) % TICK_INTERVAL_MS).isZero();
        }
        long last = times.get(times.size() - 1);
        assertThat(last).isGreaterThan(times.get(times.size() - 2)).isGreaterThan(latestShake)
                .isEqualTo(lastEnd + ShakeTrafficGenerator.FINAL_TICK_LEAD_MS);
        assertThat(times.get(0)).isLessThanOrEqualTo(TINY.roundStartMs(TINY.round(1)));
        // Through the quiet spell between the rounds, ticks keep coming at the interval.
        long gapStart = TINY.roundEndMs(TINY.round(1)) + ShakeTrafficGenerator.OUT_OF_WINDOW_SPREAD_MS;
        assertThat(times).filteredOn(t -> t > gapStart && t < TINY.roundStartMs(TINY.round(2)) - 5_000)
                .hasSizeGreaterThan(5);
        Manifest manifest = manifest(records);
        assertThat(manifest.ticks).isEqualTo(4L * times.size());
        assertThat(manifest.lastTickMs).isEqualTo(last);
    }

    /** A tick at T promises no later first delivery below T (retries, old bytes again, are the exception). */
    @Test
    void shouldNeverWriteAFirstDeliveryBehindATick() {
        long latestTick = Long.MIN_VALUE;
        int checked = 0;
        for (GeneratedRecord r : generateWithTicks(42)) {
            if (r.isTick()) {
                latestTick = ShakeEventCodec.decode(r.value()).tickMs();
            } else if (r.event() != null && r.kind() != RecordKind.RETRY) {
                assertThat(r.event().gatewayTsMs).as("%s record", r.kind()).isGreaterThanOrEqualTo(latestTick);
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(5_000);
    }

    /** Back-to-back rounds: round 1's late out-of-window shakes come after round 2 has opened. */
    @Test
    void shouldNeverRunATickAheadOfTheNextRoundsShakesWhenRoundsAreBackToBack() throws Exception {
        String yaml = java.nio.file.Files.readString(Datasets.file("tiny.yaml"))
                .replace("start_offset: PT30S", "start_offset: PT11S");
        GalaProfile backToBack = GalaProfile.parse(yaml, "tiny, round 2 one second after round 1");
        List<GeneratedRecord> records = new ArrayList<>();
        new ShakeTrafficGenerator(backToBack, 42, 0).withTicks(4, java.time.Duration.ofMillis(TICK_INTERVAL_MS))
                .generate(records::add);

        long latestTick = Long.MIN_VALUE;
        for (GeneratedRecord r : records) {
            if (r.isTick()) {
                latestTick = ShakeEventCodec.decode(r.value()).tickMs();
            } else if (r.kind() == RecordKind.VALID || r.kind() == RecordKind.BOT) {
                assertThat(r.event().gatewayTsMs).as("%s record", r.kind()).isGreaterThanOrEqualTo(latestTick);
            }
        }
        assertThat(latestTick).isEqualTo(backToBack.roundEndMs(backToBack.round(2))
                + ShakeTrafficGenerator.FINAL_TICK_LEAD_MS);
    }

    @Test
    void shouldLeaveEveryOtherRecordAndTheExpectedCountsAsTheyAreWithoutTicks() {
        List<GeneratedRecord> withTicks = generateWithTicks(9);
        List<GeneratedRecord> without = generate(9);
        List<GeneratedRecord> shakesAndRejects = withTicks.stream().filter(r -> !r.isTick()).toList();

        assertThat(shakesAndRejects).hasSameSizeAs(without);
        for (int i = 0; i < without.size(); i++) {
            assertThat(shakesAndRejects.get(i).value()).as("record %d", i).isEqualTo(without.get(i).value());
        }
        Manifest ticked = manifest(withTicks);
        Manifest plain = manifest(without);
        assertThat(ticked.expected).isEqualTo(plain.expected);
        assertThat(ticked.records).isEqualTo(plain.records);
        assertThat(ticked.recordsByKind).isEqualTo(plain.recordsByKind);
        assertThat(plain.ticks).isZero();
        assertThat(ticked.recordsSha256).as("the digest covers the ticks").isNotEqualTo(plain.recordsSha256);
    }

    @Test
    void shouldCountNoTickAsAShakeOrAReject() {
        List<GeneratedRecord> records = generateWithTicks(42);
        ShakeTopicCounter counter = new ShakeTopicCounter(new java.util.Properties(), TINY.windows());
        IntakeCounts counted = new IntakeCounts();
        Set<ShakeTopicCounter.EventKey> seen = new HashSet<>();
        records.forEach(r -> counter.count(r.value(), counted, seen));

        Manifest manifest = manifest(records);
        assertThat(counted).isEqualTo(manifest.expected);
        assertThat(counter.ticks()).isEqualTo(manifest.ticks).isPositive();
        assertThat(counted.records()).isEqualTo(records.size() - manifest.ticks);
    }

    /** An unknown-format record must never get the tick's format byte: it would be UNDECODABLE instead. */
    @Test
    void shouldNeverGiveAnUnsupportedVersionRecordTheTickFormatByte() {
        List<GeneratedRecord> records = new ArrayList<>();
        new ShakeTrafficGenerator(TINY, 42, 100_000).generate(records::add);
        long unsupported = 0;
        for (GeneratedRecord r : records) {
            if (r.kind() == RecordKind.UNSUPPORTED_VERSION) {
                unsupported++;
                assertThat(ShakeEventCodec.decode(r.value()).reason()).isEqualTo(RejectReason.UNSUPPORTED_VERSION);
            }
        }
        assertThat(unsupported).isGreaterThan(300);
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
    void shouldGiveTheSameBytesAsBeforeTheRampForAProfileWithoutOne() {
        // Digests of seed 42 without ticks, from the generator before burst_ramp existed (generate --dry-run
        // --tick-interval PT0S at 55b4b39): a profile without a ramp draws exactly the traffic it drew then.
        assertThat(manifest(generate(TINY, 42)).recordsSha256)
                .isEqualTo("3cb442c5e06718414f70b9ea238c39b977a14ac89f4480b56293e9f8bbf079a0");
        assertThat(manifest(generate(GalaProfile.load(Datasets.file("chaos.yaml")), 42)).recordsSha256)
                .isEqualTo("5c7ecae1a0ad2c6b685327c9b8c7e5bbd266a6a6553b7c11c873ad4c39227f15");
    }

    @Test
    void shouldRampUpIntoThePeakAndDecayFromIt() {
        GalaProfile rehearsal = GalaProfile.load(Datasets.file("rehearsal.yaml"));
        long start = rehearsal.roundStartMs(rehearsal.round(1));
        long[] perSecond = new long[60];
        new ShakeTrafficGenerator(rehearsal, 42, 120_000).generate(r -> {
            if (r.kind() == RecordKind.VALID && r.event().roundId == 1) {
                perSecond[(int) ((r.event().gatewayTsMs - start) / 1000)]++;
            }
        });
        int busiest = 0;
        for (int s = 1; s < 60; s++) {
            busiest = perSecond[s] > perSecond[busiest] ? s : busiest;
        }
        double steady = Arrays.stream(perSecond, 40, 60).average().orElseThrow();

        assertThat(busiest).as("the peak is at the ramp's top, 10 s in").isEqualTo(9);
        assertThat(perSecond[0]).as("the first second is below a fifth of the peak").isLessThan(perSecond[9] / 5);
        assertThat(perSecond[4]).isBetween(perSecond[1], perSecond[9]);
        assertThat(perSecond[9] / steady).as("peak over steady").isBetween(9.0, 11.0);
        assertThat(Arrays.stream(perSecond).sum()).isEqualTo(120_000);
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

    static final long TICK_INTERVAL_MS = 1_000;

    static List<GeneratedRecord> generateWithTicks(long seed) {
        List<GeneratedRecord> records = new ArrayList<>();
        new ShakeTrafficGenerator(TINY, seed, 0).withTicks(TINY.traffic().partitions(),
                java.time.Duration.ofMillis(TICK_INTERVAL_MS)).generate(records::add);
        return records;
    }

    static List<GeneratedRecord> generate(GalaProfile profile, long seed) {
        List<GeneratedRecord> records = new ArrayList<>();
        new ShakeTrafficGenerator(profile, seed, 0).generate(records::add);
        return records;
    }

    static List<GeneratedRecord> generate(long seed) {
        return generate(TINY, seed);
    }

    static Manifest manifest(List<GeneratedRecord> records) {
        Manifest manifest = new Manifest();
        records.forEach(manifest);
        return manifest.finish();
    }
}
