package io.hongbao.jobs.counting;

import io.hongbao.ingest.SplitMix64;
import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.settlement.analytics.InteractionCount;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;

/**
 * Sums distinct shakes per cell inside the task that counted them and hands on one partial sum per cell and
 * flush ({@link InteractionCount#shakes} is then an increment, not a total) instead of one record per shake,
 * so the keyed {@link InteractionCounter} behind it pays one network hop and one RocksDB update per cell and
 * flush, not per shake. Used by the operator that decides a shake is an interaction ({@code EventIdentity}
 * in the payout job, {@link CellSums} on the counting path).
 *
 * <p>No state: its owner flushes it before every checkpoint barrier and at the end of input, and it flushes
 * itself every {@code interval} (so the dashboards stay current) and when {@link #MAX_PENDING_CELLS} are
 * pending (so memory stays bounded whatever the traffic). A checkpoint never covers a shake whose count is
 * still here.
 */
public final class CellTally {
    static final int MAX_PENDING_CELLS = 10_000;
    /** Slots of the open-addressing table: a power of two, so {@link #MAX_PENDING_CELLS} fill it to 61% at most. */
    private static final int SLOTS = 1 << 14;

    private final long intervalMs;
    private final Consumer<InteractionCount> out;
    // One cell a slot, in parallel arrays: a shake's cell is found without allocating a key object (this runs
    // for every distinct shake of the gala).
    private final int[] roundIds = new int[SLOTS];
    private final long[] minutes = new long[SLOTS];
    private final Channel[] channels = new Channel[SLOTS];
    private final String[] regions = new String[SLOTS];
    private final long[] sums = new long[SLOTS];
    private final int[] usedSlots = new int[MAX_PENDING_CELLS];
    private int used;

    public CellTally(Duration interval, Consumer<InteractionCount> out) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("flush interval must be positive: " + interval);
        }
        this.intervalMs = interval.toMillis();
        this.out = out;
    }

    /** Flushes every interval from now on, on the owner's task thread. */
    public void start(ProcessingTimeService time) {
        time.registerTimer(time.getCurrentProcessingTime() + intervalMs, t -> {
            flush();
            start(time);
        });
    }

    public void add(ShakeEvent e) {
        long minute = InteractionCount.minuteOf(e.gatewayTsMs);
        int slot = slotOf(e.roundId, minute, e.channel, e.region);
        while (sums[slot] != 0) {
            if (roundIds[slot] == e.roundId && minutes[slot] == minute && channels[slot] == e.channel
                    && Objects.equals(regions[slot], e.region)) {
                sums[slot]++;
                return;
            }
            slot = (slot + 1) & (SLOTS - 1);
        }
        if (used == MAX_PENDING_CELLS) {
            flush();
            slot = slotOf(e.roundId, minute, e.channel, e.region);
        }
        roundIds[slot] = e.roundId;
        minutes[slot] = minute;
        channels[slot] = e.channel;
        regions[slot] = e.region;
        sums[slot] = 1;
        usedSlots[used++] = slot;
    }

    public void flush() {
        for (int i = 0; i < used; i++) {
            int slot = usedSlots[i];
            out.accept(new InteractionCount(roundIds[slot], minutes[slot], channels[slot].key(), regions[slot],
                    sums[slot]));
            sums[slot] = 0;
            channels[slot] = null;
            regions[slot] = null;
        }
        used = 0;
    }

    private static int slotOf(int roundId, long minute, Channel channel, String region) {
        long h = SplitMix64.mix(((long) roundId << 32) ^ minute ^ ((long) channel.ordinal() << 56));
        return (int) (h ^ Objects.hashCode(region)) & (SLOTS - 1);
    }
}
