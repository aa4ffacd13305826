package io.hongbao.jobs.counting;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.settlement.analytics.InteractionCount;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Sums distinct shakes per cell inside the task that made them and hands on one partial sum per cell and
 * flush ({@link InteractionCount#shakes} is then an increment, not a total) instead of one record per shake.
 * The keyed {@link InteractionCounter} behind it then pays one network hop and one RocksDB update per cell
 * and flush, not per shake: at a gala's rates a minute's cell sees thousands of shakes a second.
 *
 * <p>No state: the sums are flushed before every checkpoint barrier ({@link #prepareSnapshotPreBarrier}), at
 * the end of the input and every {@code flushInterval}, so a checkpoint never covers a shake whose count is
 * still here. Flushing often keeps the dashboards current; the count sink writes once a second anyway.
 */
public final class CellSums extends AbstractStreamOperator<InteractionCount>
        implements OneInputStreamOperator<ShakeRecord, InteractionCount>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    /** Flush early when this many cells are pending, so memory stays bounded whatever the traffic. */
    static final int MAX_PENDING_CELLS = 10_000;

    private final long flushIntervalMs;
    private transient Map<Cell, long[]> pending;

    public CellSums(Duration flushInterval) {
        if (flushInterval.isNegative() || flushInterval.isZero()) {
            throw new IllegalArgumentException("flush interval must be positive: " + flushInterval);
        }
        this.flushIntervalMs = flushInterval.toMillis();
    }

    /** One cell: the counter's key, without building its string per shake. */
    private record Cell(int roundId, long minuteStartMs, Channel channel, String region) {}

    @Override
    public void open() throws Exception {
        super.open();
        pending = new HashMap<>();
        scheduleFlush();
    }

    private void scheduleFlush() {
        long now = getProcessingTimeService().getCurrentProcessingTime();
        getProcessingTimeService().registerTimer(now + flushIntervalMs, time -> {
            flush();
            scheduleFlush();
        });
    }

    @Override
    public void processElement(StreamRecord<ShakeRecord> element) {
        ShakeEvent e = element.getValue().event;
        Cell cell = new Cell(e.roundId, InteractionCount.minuteOf(e.gatewayTsMs), e.channel, e.region);
        long[] sum = pending.get(cell);
        if (sum == null) {
            if (pending.size() >= MAX_PENDING_CELLS) {
                flush();
            }
            pending.put(cell, new long[] {1});
        } else {
            sum[0]++;
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flush();
    }

    @Override
    public void endInput() {
        flush();
    }

    private void flush() {
        for (Map.Entry<Cell, long[]> entry : pending.entrySet()) {
            Cell c = entry.getKey();
            output.collect(new StreamRecord<>(new InteractionCount(c.roundId(), c.minuteStartMs(), c.channel().key(),
                    c.region(), entry.getValue()[0])));
        }
        pending.clear();
    }
}
