package io.hongbao.ingest.generator;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;

/**
 * Sends generated records through several senders at once (one Kafka producer each), for a generator that must
 * keep up with a rehearsal's peaks: lane {@code i} has its own thread and sender and owns the partitions
 * {@code p} with {@code p % lanes == i}, so each partition's records still go out in the order they were
 * generated, through one idempotent producer, and land on the partition Kafka's own partitioner picks for their
 * key. The generating thread only generates (and feeds the manifest before this): it runs up to
 * {@code aheadRecords} ahead of the lanes, so a round's burst is mostly made in the quiet spell before it, and
 * at the peak only the sends are left, spread over the lanes.
 *
 * <p>Paced (a {@link PaceClock}), every lane waits for each record's gateway time on the one clock: gateway time
 * as {@link Pacer} reads it (a record without one, a malformed record, takes the latest seen). The clock starts
 * at the first record with a gateway time, when the generating thread hands it over.
 *
 * <p>Records are handed over in chunks of up to {@value #CHUNK} (or {@value #CHUNK_SPAN_MS} ms of gateway time,
 * so a lane never waits on a half-filled chunk while others send); the first failure of a lane stops the run:
 * {@link #accept} and {@link #close} rethrow it.
 */
public final class PartitionLanes implements Consumer<GeneratedRecord>, AutoCloseable {
    /** Records handed to a lane at once, at most; also the least {@code aheadRecords} can be. */
    public static final int CHUNK = 256;
    static final long CHUNK_SPAN_MS = 10;
    private static final Chunk END = new Chunk(0);

    private final int partitions;
    private final PaceClock clock;
    private final long paceUntilTsMs;
    private final Runnable onStart;
    private final Semaphore ahead;
    private final List<LinkedBlockingQueue<Chunk>> queues = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Chunk[] open;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private long latestTsMs = Long.MIN_VALUE;
    private long nextSweepTsMs = Long.MIN_VALUE;
    private boolean closed;

    /**
     * @param senders one per lane, each called from its lane's thread only
     * @param partitions the topic's partition count (to place a keyed record as Kafka's partitioner does)
     * @param aheadRecords how many records generation may be ahead of the sends, at most
     * @param clock the pace, or null to send as fast as the senders go
     * @param paceUntilTsMs records past this gateway time go out at once (see {@link Pacer#paceUntil})
     * @param onStart runs on the generating thread when the clock starts (never without a clock)
     */
    public PartitionLanes(List<? extends Consumer<GeneratedRecord>> senders, int partitions, long aheadRecords,
            PaceClock clock, long paceUntilTsMs, Runnable onStart) {
        if (senders.isEmpty() || partitions <= 0 || aheadRecords < CHUNK) {
            throw new IllegalArgumentException("lanes need a sender, partitions and room for a chunk ahead");
        }
        this.partitions = partitions;
        this.clock = clock;
        this.paceUntilTsMs = paceUntilTsMs;
        this.onStart = onStart;
        this.ahead = new Semaphore((int) Math.min(Integer.MAX_VALUE, aheadRecords));
        this.open = new Chunk[senders.size()];
        for (int i = 0; i < senders.size(); i++) {
            LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
            Consumer<GeneratedRecord> sender = senders.get(i);
            Thread t = new Thread(() -> drain(queue, sender), "lane-" + i);
            t.setDaemon(true);
            queues.add(queue);
            threads.add(t);
            t.start();
        }
    }

    /** The lane of a record: its partition (Kafka's choice from the key for a keyed one) modulo the lanes. */
    int partitionOf(GeneratedRecord record) {
        return record.partition() == GeneratedRecord.BY_KEY
                ? BuiltInPartitioner.partitionForKey(record.key(), partitions) : record.partition();
    }

    @Override
    public void accept(GeneratedRecord record) {
        rethrowFailure();
        long own = Pacer.gatewayTsMs(record);
        if (own != Long.MIN_VALUE && own > latestTsMs) {
            latestTsMs = own;
        }
        long ts = latestTsMs;
        if (clock != null && ts != Long.MIN_VALUE && clock.start(ts)) {
            onStart.run();
        }
        int partition = partitionOf(record);
        int lane = partition % open.length;
        Chunk chunk = open[lane];
        if (chunk == null) {
            chunk = open[lane] = new Chunk(ts);
        }
        // Only what a send needs stays in memory while it waits: no shake object, the partition fixed.
        chunk.add(new GeneratedRecord(record.kind(), record.key(), record.value(), null, partition), ts);
        if (chunk.size == CHUNK) {
            hand(lane);
        }
        if (ts != Long.MIN_VALUE && ts >= nextSweepTsMs) {
            // Gateway time moved on: the chunks that span long enough go, so no lane waits behind a sparse one.
            for (int l = 0; l < open.length; l++) {
                if (open[l] != null && (open[l].firstTsMs == Long.MIN_VALUE || ts - open[l].firstTsMs >= CHUNK_SPAN_MS)) {
                    hand(l);
                }
            }
            nextSweepTsMs = ts + CHUNK_SPAN_MS;
        }
    }

    private void hand(int lane) {
        Chunk chunk = open[lane];
        open[lane] = null;
        try {
            while (!ahead.tryAcquire(chunk.size, 100, TimeUnit.MILLISECONDS)) {
                rethrowFailure();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the lanes", e);
        }
        queues.get(lane).add(chunk);
    }

    private void drain(LinkedBlockingQueue<Chunk> queue, Consumer<GeneratedRecord> sender) {
        try {
            for (Chunk chunk = queue.take(); chunk != END; chunk = queue.take()) {
                try {
                    if (failure.get() == null) {
                        for (int i = 0; i < chunk.size; i++) {
                            long ts = chunk.tsMs[i];
                            if (clock != null && ts != Long.MIN_VALUE && ts <= paceUntilTsMs) {
                                clock.awaitDue(ts);
                            }
                            sender.accept(chunk.records[i]);
                        }
                    }
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e); // the rest is drained unsent: generation must not wait on it
                } finally {
                    ahead.release(chunk.size);
                }
            }
        } catch (InterruptedException e) {
            failure.compareAndSet(null, e);
        }
    }

    private void rethrowFailure() {
        Throwable t = failure.get();
        if (t != null) {
            throw new IllegalStateException("a sending lane failed: " + t, t);
        }
    }

    /** Hands over what is left, waits until every lane has sent everything, and rethrows a lane's failure. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int l = 0; l < open.length; l++) {
            if (open[l] != null) {
                hand(l);
            }
            queues.get(l).add(END);
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the lanes", e);
            }
        }
        rethrowFailure();
    }

    private static final class Chunk {
        final long firstTsMs;
        final GeneratedRecord[] records;
        final long[] tsMs;
        int size;

        Chunk(long firstTsMs) {
            this.firstTsMs = firstTsMs;
            this.records = new GeneratedRecord[CHUNK];
            this.tsMs = new long[CHUNK];
        }

        void add(GeneratedRecord record, long ts) {
            records[size] = record;
            tsMs[size++] = ts;
        }
    }
}
