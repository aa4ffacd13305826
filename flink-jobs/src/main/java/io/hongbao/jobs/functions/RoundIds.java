package io.hongbao.jobs.functions;

import io.hongbao.jobs.functions.EventIdTable.Verdict;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The event ids one identity subtask remembers for one round: an {@link EventIdTable} for the lookups, and the
 * ids learned but not yet written to keyed state, by key group. Keyed state holds the ids as lists of chunks of
 * up to {@link #CHUNK_IDS} ids, each chunk filed under an identity shard of the key group its ids belong to
 * ({@link IdentityKeyGroups}): a key group's chunk is written as soon as it is full, the rest before each
 * barrier, so the write is spread over the stream (the barrier writes at most one partial chunk a key group,
 * which bounds the checkpoint's synchronous part), a checkpoint holds what is new (incremental on RocksDB), a
 * restore or a rescale reads back exactly the ids of the key groups the subtask owns (a chunk never mixes key
 * groups, and moves with its own), and a round's close drops its chunks whole.
 *
 * <p>A chunk: a format byte, then (id hi, id lo, fingerprint) per id, big-endian.
 */
final class RoundIds {
    static final byte CHUNK_FORMAT = 1;
    private static final int ID_BYTES = 24;
    /**
     * Ids a full chunk holds: ~3 KB. Pending per key group, not per identity shard (16,384 of them), so the ids
     * waiting for the barrier stay as few as with 32-id chunks per shard at 4,096 key groups, while a chunk is
     * written a quarter as often (a chunk's write, a RocksDB merge under its key, was a fifth of the identity
     * task's CPU with 32-id chunks: BENCHMARKS.md, issue 15 step 2).
     */
    static final int CHUNK_IDS = 128;

    private final EventIdTable table = new EventIdTable(1 << 10);
    private final IdentityKeyGroups groups;
    /** (hi, lo, fingerprint) triples per key group of the subtask not written to state yet. */
    private final long[][] pending;
    private final int[] pendingLength;
    /** Key groups with pending ids, each once (one whose chunk filled stays listed until the barrier). */
    private int[] dirty = new int[64];
    private final boolean[] listed;
    private int dirtyCount;
    private final ChunkWriter writer;

    RoundIds(IdentityKeyGroups groups, ChunkWriter writer) {
        this.groups = groups;
        this.writer = writer;
        this.pending = new long[groups.size()][];
        this.pendingLength = new int[groups.size()];
        this.listed = new boolean[groups.size()];
    }

    /** Where chunks go: the list, in keyed state, of an identity shard of the chunk's key group. */
    @FunctionalInterface
    interface ChunkWriter {
        void write(int shard, byte[] chunk) throws Exception;
    }

    /**
     * Judges an id of identity shard {@code shard} and remembers it when new, to be written with its key group's
     * next chunk: now if that fills the chunk.
     */
    Verdict remember(int shard, long hi, long lo, long fingerprint) throws Exception {
        Verdict verdict = table.remember(hi, lo, fingerprint);
        if (verdict == Verdict.NEW) {
            int group = groups.of(shard);
            if (append(group, hi, lo, fingerprint) == 3 * CHUNK_IDS) {
                writer.write(groups.fileUnder(group), chunk(group));
            }
        }
        return verdict;
    }

    boolean contains(long hi, long lo) {
        return table.contains(hi, lo);
    }

    /** Takes back ids written before (a restore): into the table, not written again. */
    void restore(byte[] chunk) {
        ByteBuffer in = ByteBuffer.wrap(chunk);
        byte format = in.get();
        if (format != CHUNK_FORMAT || in.remaining() % ID_BYTES != 0) {
            throw new IllegalStateException("an event-id chunk of format " + format + " and " + chunk.length
                    + " bytes: this job reads format " + CHUNK_FORMAT);
        }
        while (in.hasRemaining()) {
            table.remember(in.getLong(), in.getLong(), in.getLong());
        }
    }

    /** Writes each key group's ids not written yet as one chunk. */
    void writePending() throws Exception {
        for (int i = 0; i < dirtyCount; i++) {
            int group = dirty[i];
            listed[group] = false;
            if (pendingLength[group] > 0) {
                writer.write(groups.fileUnder(group), chunk(group));
            }
        }
        dirtyCount = 0;
    }

    /** The key group's pending ids as a chunk; they are no longer pending. */
    private byte[] chunk(int group) {
        long[] ids = pending[group];
        int length = pendingLength[group];
        ByteBuffer chunk = ByteBuffer.allocate(1 + length * 8);
        chunk.put(CHUNK_FORMAT);
        for (int j = 0; j < length; j++) {
            chunk.putLong(ids[j]);
        }
        pendingLength[group] = 0;
        return chunk.array();
    }

    int size() {
        return table.size();
    }

    long heapBytes() {
        return table.heapBytes();
    }

    /** Returns the key group's pending longs after the append (3 an id). */
    private int append(int group, long hi, long lo, long fingerprint) {
        long[] ids = pending[group];
        int length = pendingLength[group];
        if (ids == null) {
            ids = pending[group] = new long[3 * CHUNK_IDS]; // kept for the group's next chunks: no churn
        }
        if (!listed[group]) {
            if (dirtyCount == dirty.length) {
                dirty = Arrays.copyOf(dirty, dirtyCount * 2);
            }
            dirty[dirtyCount++] = group;
            listed[group] = true;
        }
        ids[length] = hi;
        ids[length + 1] = lo;
        ids[length + 2] = fingerprint;
        pendingLength[group] = length + 3;
        return length + 3;
    }
}
