package io.hongbao.ingest.generator;

import io.hongbao.ingest.SplitMix64;
import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.profile.RoundProfile;
import io.hongbao.ingest.profile.TrafficProfile;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Consumer;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.distribution.DiscreteSampler;
import org.apache.commons.rng.sampling.distribution.RejectionInversionZipfSampler;
import org.apache.commons.rng.simple.RandomSource;

/**
 * Makes a gala's shake traffic from a profile: per round a burst rising into its peak at the start and decaying
 * into a steady rate,
 * users drawn from a Zipf distribution, client retries (the same bytes again, a little later), malformed
 * records, shakes for unknown rounds and just outside a round's window, and bots that shake faster than a
 * person can.
 *
 * <p>Deterministic: the same profile, seed and size give the same records in the same order, byte for byte
 * (one seeded generator drives every choice). Records come out in gateway-time order, shuffled within each
 * {@value #SLOT_MS} ms slot, so event time is out of order by less than a slot, except for retries, which
 * arrive up to {@code retry_delay_max} after the shake they repeat. One instance generates once.
 *
 * <p>With {@link #withTicks} it also writes what the gateway writes: a tick to every partition each interval of
 * gateway time (on the interval's multiples since the epoch), in order with the traffic (a tick at T comes
 * before the first record written at T or later, so first deliveries are never behind a tick; retries, the
 * same bytes again, are), through the quiet spells between rounds, and a final tick {@link #FINAL_TICK_LEAD_MS}
 * past the last round's end (and past the last record), so the rounds close in event time with no idleness.
 * Ticks draw no random numbers: the other records are the same bytes with or without them.
 */
public final class ShakeTrafficGenerator {
    /** Granularity of the traffic curve; also the bound on event-time disorder of first deliveries. */
    public static final long SLOT_MS = 100;
    /** Out-of-window shakes fall at most this far before a round opens or after it closes. */
    public static final long OUT_OF_WINDOW_SPREAD_MS = 5_000;
    static final long USER_ID_BASE = 100_000_000L;
    static final long BOT_USER_ID_BASE = 900_000_000L;
    private static final int OVERSIZED_REGION_CHARS = ShakeEventCodec.MAX_RECORD_BYTES + 100;
    /**
     * The final tick's lead over the last round's end: more than any job's out-of-orderness (2 s in the payout
     * job), so the watermark passes every round's end, and than {@link #OUT_OF_WINDOW_SPREAD_MS}, so it is past
     * every record; less than ShakeWatermarks' tick horizon (1 h).
     */
    public static final long FINAL_TICK_LEAD_MS = 60_000;

    private final GalaProfile profile;
    private final TrafficProfile traffic;
    private final long eventsPerRound;
    private final UniformRandomProvider rng;
    private final DiscreteSampler users;
    private final long[] userSeq;
    private final long[] botSeq;
    private final Channel[] channels;
    private final long[] channelCumulative;
    private final String[] regions;
    private final long[] regionCumulative;
    private final int unknownRoundBase;
    private int malformedTurn;
    private int invalidFieldTurn;
    private long retryOrder;
    private boolean used;
    private int tickPartitions;
    private long tickIntervalMs;
    private long nextTickMs = Long.MIN_VALUE;
    private long lastTickMs = Long.MIN_VALUE;

    /**
     * @param eventsPerRound person shakes per round; 0 or less keeps the profile's {@code events_per_round}
     */
    public ShakeTrafficGenerator(GalaProfile profile, long seed, long eventsPerRound) {
        this.profile = profile;
        this.traffic = profile.traffic();
        this.eventsPerRound = eventsPerRound > 0 ? eventsPerRound : traffic.eventsPerRound();
        this.rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        this.users = RejectionInversionZipfSampler.of(rng, traffic.users(), traffic.userZipfExponent());
        this.userSeq = new long[traffic.users() + 1];
        this.botSeq = new long[traffic.botDevices()];
        this.channels = traffic.channels().keySet().stream().map(Channel::ofKey).toArray(Channel[]::new);
        this.channelCumulative = cumulative(traffic.channels());
        this.regions = traffic.regions().keySet().toArray(String[]::new);
        this.regionCumulative = cumulative(traffic.regions());
        this.unknownRoundBase = profile.rounds().stream().mapToInt(RoundProfile::id).max().orElse(0) + 1000;
    }

    public long eventsPerRound() {
        return eventsPerRound;
    }

    /**
     * Also writes a gateway tick to each partition {@code 0..partitions-1} every {@code interval} of gateway time.
     * {@code partitions} must be the topic's real partition count: a partition without ticks holds event time
     * back at its last shake.
     */
    public ShakeTrafficGenerator withTicks(int partitions, java.time.Duration interval) {
        if (partitions <= 0) {
            throw new IllegalArgumentException("ticks need the topic's partition count, was " + partitions);
        }
        if (interval.toMillis() <= 0) {
            throw new IllegalArgumentException("tick interval must be at least 1 ms, was " + interval);
        }
        if (used) {
            throw new IllegalStateException("configure ticks before generating");
        }
        this.tickPartitions = partitions;
        this.tickIntervalMs = interval.toMillis();
        return this;
    }

    /** The time of the last tick written; {@link Long#MIN_VALUE} when none was. */
    public long lastTickMs() {
        return lastTickMs;
    }

    /** Sends every record, in order, to {@code out}. */
    public void generate(Consumer<GeneratedRecord> out) {
        if (used) {
            throw new IllegalStateException("a generator generates once; make a new one with the same seed");
        }
        used = true;
        List<RoundProfile> rounds = new ArrayList<>(profile.rounds());
        rounds.sort(Comparator.comparing(RoundProfile::startOffset));
        long lastEnd = Long.MIN_VALUE;
        for (RoundProfile round : rounds) {
            generateRound(round, out);
            lastEnd = Math.max(lastEnd, profile.roundEndMs(round));
        }
        if (tickPartitions > 0 && lastEnd != Long.MIN_VALUE) {
            // Past every record's gateway time too: the latest are out-of-window shakes, less than
            // OUT_OF_WINDOW_SPREAD_MS past the end.
            long finalTick = lastEnd + FINAL_TICK_LEAD_MS;
            advanceTo(finalTick, out);
            if (lastTickMs < finalTick) {
                tick(finalTick, out);
            }
        }
    }

    /** The gateway clock reaches {@code writeMs}: first the ticks due by then, on every partition. */
    private void advanceTo(long writeMs, Consumer<GeneratedRecord> out) {
        if (tickPartitions == 0) {
            return;
        }
        if (nextTickMs == Long.MIN_VALUE) {
            nextTickMs = -Math.floorDiv(-writeMs, tickIntervalMs) * tickIntervalMs; // the first multiple at or after
        }
        for (; nextTickMs <= writeMs; nextTickMs += tickIntervalMs) {
            tick(nextTickMs, out);
        }
    }

    private void tick(long gatewayTsMs, Consumer<GeneratedRecord> out) {
        for (int p = 0; p < tickPartitions; p++) {
            out.accept(GeneratedRecord.tick(p, gatewayTsMs));
        }
        lastTickMs = gatewayTsMs;
    }

    private void generateRound(RoundProfile round, Consumer<GeneratedRecord> out) {
        long start = profile.roundStartMs(round);
        long end = profile.roundEndMs(round);
        long outOfWindow = Math.round(eventsPerRound * traffic.outOfWindowShare());
        emitOutOfWindow(round, start - OUT_OF_WINDOW_SPREAD_MS, outOfWindow / 2, true, out);

        int slots = (int) ((end - start + SLOT_MS - 1) / SLOT_MS);
        long[] quota = slotQuotas(eventsPerRound, start, end, slots);
        long botIntervalMs = Math.max(1, 1000 / traffic.botShakesPerSecond());
        long[] botNext = new long[botSeq.length];
        for (int b = 0; b < botNext.length; b++) {
            botNext[b] = start + (b * 37L) % botIntervalMs;
        }
        PriorityQueue<PendingRetry> retries = new PriorityQueue<>();
        List<GeneratedRecord> slot = new ArrayList<>();
        for (int s = 0; s < slots; s++) {
            long slotStart = start + s * SLOT_MS;
            long slotEnd = Math.min(slotStart + SLOT_MS, end);
            advanceTo(slotStart, out);
            for (long i = 0; i < quota[s]; i++) {
                long ts = slotStart + rng.nextLong(slotEnd - slotStart);
                GeneratedRecord shake = record(RecordKind.VALID, personShake(round.id(), ts));
                slot.add(shake);
                if (rng.nextDouble() < traffic.retryShare()) {
                    long delay = 200 + rng.nextLong(traffic.retryDelayMax().toMillis() - 199);
                    retries.add(new PendingRetry(ts + delay, retryOrder++, shake));
                }
                if (rng.nextDouble() < traffic.malformedShare()) {
                    slot.add(malformed(round.id(), ts));
                }
                if (rng.nextDouble() < traffic.unknownRoundShare()) {
                    slot.add(record(RecordKind.UNKNOWN_ROUND,
                            personShake(unknownRoundBase + rng.nextInt(1000), ts)));
                }
            }
            for (int b = 0; b < botNext.length; b++) {
                for (; botNext[b] < slotEnd; botNext[b] += botIntervalMs) {
                    slot.add(record(RecordKind.BOT, botShake(b, round.id(), botNext[b])));
                }
            }
            while (!retries.isEmpty() && retries.peek().dueMs < slotEnd) {
                slot.add(retries.poll().asRetry());
            }
            shuffle(slot);
            slot.forEach(out);
            slot.clear();
        }
        // The clock stays at the round's last slot for the trailing retries and the out-of-window shakes after
        // the round: the out-of-window ones fall from the round's end on, up to 5 s past it, and the next round
        // may start sooner than that; a tick must never run ahead of a later first delivery. A tick may lag: the
        // next round's first record brings the ticks of the gap between.
        while (!retries.isEmpty()) {
            out.accept(retries.poll().asRetry());
        }
        emitOutOfWindow(round, end, outOfWindow - outOfWindow / 2, false, out);
    }

    /**
     * Splits a round's shakes over its slots: a steady share spread evenly, and a burst share rising over
     * {@code burst_ramp} into its peak and decaying exponentially from there (the host says "shake now";
     * {@link TrafficProfile#burstWeightBetween}). Largest remainder, so the sum is exact.
     */
    private long[] slotQuotas(long total, long start, long end, int slots) {
        double burst = traffic.burstShare();
        double length = end - start;
        double[] exact = new double[slots];
        long[] quota = new long[slots];
        long assigned = 0;
        for (int s = 0; s < slots; s++) {
            double t0 = s * SLOT_MS;
            double t1 = Math.min(t0 + SLOT_MS, length);
            double weight = (1 - burst) * (t1 - t0) / length + traffic.burstWeightBetween(t0, t1, length);
            exact[s] = total * weight;
            quota[s] = (long) Math.floor(exact[s]);
            assigned += quota[s];
        }
        Integer[] byRemainder = new Integer[slots];
        for (int s = 0; s < slots; s++) {
            byRemainder[s] = s;
        }
        Arrays.sort(byRemainder, Comparator.comparingDouble((Integer s) -> quota[s] - exact[s])
                .thenComparingInt(s -> s));
        for (int i = 0; assigned < total; i = (i + 1) % slots) {
            quota[byRemainder[i]]++;
            assigned++;
        }
        return quota;
    }

    private void emitOutOfWindow(RoundProfile round, long from, long count, boolean movesClock,
            Consumer<GeneratedRecord> out) {
        long[] times = new long[(int) count];
        for (int i = 0; i < times.length; i++) {
            times[i] = from + rng.nextLong(OUT_OF_WINDOW_SPREAD_MS);
        }
        Arrays.sort(times);
        for (long ts : times) {
            if (movesClock) {
                advanceTo(ts, out);
            }
            out.accept(record(RecordKind.OUT_OF_WINDOW, personShake(round.id(), ts)));
        }
    }

    private ShakeEvent personShake(int roundId, long gatewayTs) {
        int rank = users.sample();
        long userId = USER_ID_BASE + rank;
        long attributes = SplitMix64.mix(userId);
        return new ShakeEvent(nonZeroLong(), nonZeroLong(), userId, deviceOf(userId), roundId,
                channels[pick(channelCumulative, attributes)], regions[pick(regionCumulative, SplitMix64.mix(attributes))],
                clientTs(gatewayTs), gatewayTs, ++userSeq[rank]);
    }

    private ShakeEvent botShake(int bot, int roundId, long gatewayTs) {
        long userId = BOT_USER_ID_BASE + bot;
        long attributes = SplitMix64.mix(userId);
        return new ShakeEvent(nonZeroLong(), nonZeroLong(), userId, deviceOf(userId), roundId,
                channels[pick(channelCumulative, attributes)], regions[pick(regionCumulative, SplitMix64.mix(attributes))],
                clientTs(gatewayTs), gatewayTs, ++botSeq[bot]);
    }

    private GeneratedRecord malformed(int roundId, long ts) {
        RecordKind kind = RecordKind.MALFORMED[malformedTurn++ % RecordKind.MALFORMED.length];
        ShakeEvent shake = personShake(roundId, ts);
        byte[] key = keyOf(shake.userId);
        byte[] value = switch (kind) {
            case EMPTY -> new byte[0];
            case GARBAGE -> garbage();
            // Cut inside event_id_hi, the first field (a fixed64 that is never absent): always short.
            case TRUNCATED -> Arrays.copyOf(ShakeEventCodec.encode(shake), 3 + rng.nextInt(7));
            case UNSUPPORTED_VERSION -> {
                byte[] v = ShakeEventCodec.encode(shake);
                int format = 2 + rng.nextInt(254);
                // 0x54 is a tick's format byte: a shake behind it is UNDECODABLE, not an unknown format.
                v[0] = (byte) (format == ShakeEventCodec.FORMAT_TICK ? format + 1 : format);
                yield v;
            }
            case OVERSIZED -> {
                shake.region = "X".repeat(OVERSIZED_REGION_CHARS);
                yield ShakeEventCodec.encode(shake);
            }
            case INVALID_FIELD -> ShakeEventCodec.encode(invalidField(shake));
            default -> throw new IllegalStateException("not a malformed kind: " + kind);
        };
        return new GeneratedRecord(kind, key, value, null);
    }

    /** Format byte, then tag 0, which protobuf never accepts, then noise. */
    private byte[] garbage() {
        byte[] v = new byte[8 + rng.nextInt(32)];
        rng.nextBytes(v);
        v[0] = ShakeEventCodec.FORMAT_V1;
        v[1] = 0;
        return v;
    }

    private ShakeEvent invalidField(ShakeEvent shake) {
        switch (invalidFieldTurn++ % 5) {
            case 0 -> shake.userId = 0;
            case 1 -> shake.channel = null;
            case 2 -> shake.region = shake.region.toLowerCase(java.util.Locale.ROOT);
            case 3 -> shake.gatewayTsMs = 0;
            default -> shake.eventIdHi = shake.eventIdLo = 0;
        }
        return shake;
    }

    private GeneratedRecord record(RecordKind kind, ShakeEvent shake) {
        return new GeneratedRecord(kind, keyOf(shake.userId), ShakeEventCodec.encode(shake), shake);
    }

    /** The Kafka key: the user id, 8 bytes big-endian, so one user's shakes share a partition. */
    public static byte[] keyOf(long userId) {
        return ByteBuffer.allocate(Long.BYTES).putLong(userId).array();
    }

    private long clientTs(long gatewayTs) {
        return gatewayTs - 20 - rng.nextInt(780);
    }

    private long nonZeroLong() {
        long v;
        do {
            v = rng.nextLong();
        } while (v == 0);
        return v;
    }

    private void shuffle(List<GeneratedRecord> list) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            GeneratedRecord tmp = list.get(i);
            list.set(i, list.get(j));
            list.set(j, tmp);
        }
    }

    static long deviceOf(long userId) {
        return SplitMix64.mix(userId ^ 0x5DEECE66DL) | 1L;
    }

    private static long[] cumulative(Map<String, Integer> weights) {
        long[] cumulative = new long[weights.size()];
        long sum = 0;
        int i = 0;
        for (int w : weights.values()) {
            sum += w;
            cumulative[i++] = sum;
        }
        return cumulative;
    }

    /** Index whose weight interval holds {@code hash} spread over the total weight. */
    private static int pick(long[] cumulative, long hash) {
        long point = Long.remainderUnsigned(hash, cumulative[cumulative.length - 1]);
        int i = Arrays.binarySearch(cumulative, point + 1);
        return i >= 0 ? i : -i - 1;
    }

    private record PendingRetry(long dueMs, long order, GeneratedRecord original)
            implements Comparable<PendingRetry> {
        @Override
        public int compareTo(PendingRetry o) {
            int byDue = Long.compare(dueMs, o.dueMs);
            return byDue != 0 ? byDue : Long.compare(order, o.order);
        }

        GeneratedRecord asRetry() {
            return new GeneratedRecord(RecordKind.RETRY, original.key(), original.value(), original.event());
        }
    }
}
