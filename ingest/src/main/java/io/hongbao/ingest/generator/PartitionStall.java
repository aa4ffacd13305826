package io.hongbao.ingest.generator;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.kafka.common.utils.Utils;

/**
 * A stalled partition, for drills: between {@code after} and {@code after + stall} of wall time since the first
 * record, every record for one partition (shakes and ticks) is held back, in order, while the other partitions
 * go on; then the held records follow. What a slow broker or a gateway that fell behind does to one partition.
 * The records and their order within each partition are unchanged, so the manifest stays exact.
 */
public final class PartitionStall implements Consumer<GeneratedRecord> {
    private final Consumer<GeneratedRecord> next;
    private final int partition;
    private final int partitions;
    private final long afterNanos;
    private final long untilNanos;
    private final LongSupplier clock;
    private final ArrayDeque<GeneratedRecord> held = new ArrayDeque<>();
    private long startNanos = -1;

    public PartitionStall(Consumer<GeneratedRecord> next, int partition, int partitions, Duration after,
            Duration stall) {
        this(next, partition, partitions, after, stall, System::nanoTime);
    }

    PartitionStall(Consumer<GeneratedRecord> next, int partition, int partitions, Duration after, Duration stall,
            LongSupplier clock) {
        if (partition < 0 || partition >= partitions) {
            throw new IllegalArgumentException("partition " + partition + " is not one of the topic's " + partitions);
        }
        this.next = next;
        this.partition = partition;
        this.partitions = partitions;
        this.afterNanos = after.toNanos();
        this.untilNanos = after.plus(stall).toNanos();
        this.clock = clock;
    }

    @Override
    public void accept(GeneratedRecord record) {
        long now = clock.getAsLong();
        if (startNanos < 0) {
            startNanos = now;
        }
        long elapsed = now - startNanos;
        GeneratedRecord placed = record.partition() != GeneratedRecord.BY_KEY ? record
                : new GeneratedRecord(record.kind(), record.key(), record.value(), record.event(), partitionOf(record.key()));
        if (elapsed >= untilNanos) {
            release();
            next.accept(placed);
        } else if (placed.partition() == partition && elapsed >= afterNanos) {
            held.add(placed);
        } else {
            next.accept(placed);
        }
    }

    /** Sends what is held (also at the end of the run, should the stall outlast it). */
    public void release() {
        while (!held.isEmpty()) {
            next.accept(held.poll());
        }
    }

    /** Kafka's default partitioner for a keyed record. */
    private int partitionOf(byte[] key) {
        return Utils.toPositive(Utils.murmur2(key)) % partitions;
    }
}
