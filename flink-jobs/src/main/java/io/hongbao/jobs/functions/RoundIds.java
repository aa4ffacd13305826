package io.hongbao.jobs.functions;

import io.hongbao.jobs.functions.EventIdTable.Verdict;
import io.hongbao.jobs.payout.PayoutSettings;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The event ids one identity subtask remembers for one round: an {@link EventIdTable} for the lookups, and the
 * ids learned but not yet written to keyed state, by identity shard. Keyed state holds each shard's ids as a
 * list of chunks of up to {@link #CHUNK_IDS} ids: a shard's chunk is written as soon as it is full, the rest
 * before each barrier, so the write is spread over the stream (the barrier writes at most one partial chunk a
 * shard, which bounds the checkpoint's synchronous part), a checkpoint holds what is new (incremental on
 * RocksDB), a restore or a rescale reads back exactly the ids of the key groups the subtask owns, and a round's
 * close drops its chunks whole.
 *
 * <p>A chunk: a format byte, then (id hi, id lo, fingerprint) per id, big-endian.
 */
final class RoundIds {
    static final byte CHUNK_FORMAT = 1;
    private static final int ID_BYTES = 24;
    /** Ids a full chunk holds: ~770 bytes, so the list element's overhead in RocksDB is a few percent. */
    static final int CHUNK_IDS = 32;

    private final EventIdTable table = new EventIdTable(1 << 10);
    /** (hi, lo, fingerprint) triples per shard not written to state yet. */
    private final long[][] pending = new long[PayoutSettings.IDENTITY_SHARDS][];
    private final int[] pendingLength = new int[PayoutSettings.IDENTITY_SHARDS];
    /** Shards with pending ids, each once (a shard whose chunk filled stays listed until the barrier). */
    private int[] dirty = new int[64];
    private final boolean[] listed = new boolean[PayoutSettings.IDENTITY_SHARDS];
    private int dirtyCount;
    private final ChunkWriter writer;

    RoundIds(ChunkWriter writer) {
        this.writer = writer;
    }

    /** Where chunks go: the shard's list in keyed state. */
    @FunctionalInterface
    interface ChunkWriter {
        void write(int shard, byte[] chunk) throws Exception;
    }

    /**
     * Judges an id and remembers it when new, to be written with its shard's next chunk: now if that fills the
     * chunk.
     */
    Verdict remember(int shard, long hi, long lo, long fingerprint) throws Exception {
        Verdict verdict = table.remember(hi, lo, fingerprint);
        if (verdict == Verdict.NEW && append(shard, hi, lo, fingerprint) == 3 * CHUNK_IDS) {
            writer.write(shard, chunk(shard));
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

    /** Writes each shard's ids not written yet as one chunk. */
    void writePending() throws Exception {
        for (int i = 0; i < dirtyCount; i++) {
            int shard = dirty[i];
            listed[shard] = false;
            if (pendingLength[shard] > 0) {
                writer.write(shard, chunk(shard));
            }
        }
        dirtyCount = 0;
    }

    /** The shard's pending ids as a chunk; they are no longer pending. */
    private byte[] chunk(int shard) {
        long[] ids = pending[shard];
        int length = pendingLength[shard];
        ByteBuffer chunk = ByteBuffer.allocate(1 + length * 8);
        chunk.put(CHUNK_FORMAT);
        for (int j = 0; j < length; j++) {
            chunk.putLong(ids[j]);
        }
        pendingLength[shard] = 0;
        return chunk.array();
    }

    int size() {
        return table.size();
    }

    long heapBytes() {
        return table.heapBytes();
    }

    /** Returns the shard's pending longs after the append (3 an id). */
    private int append(int shard, long hi, long lo, long fingerprint) {
        long[] ids = pending[shard];
        int length = pendingLength[shard];
        if (ids == null) {
            ids = pending[shard] = new long[3 * CHUNK_IDS]; // kept for the shard's next chunks: no churn
        }
        if (!listed[shard]) {
            if (dirtyCount == dirty.length) {
                dirty = Arrays.copyOf(dirty, dirtyCount * 2);
            }
            dirty[dirtyCount++] = shard;
            listed[shard] = true;
        }
        ids[length] = hi;
        ids[length + 1] = lo;
        ids[length + 2] = fingerprint;
        pendingLength[shard] = length + 3;
        return length + 3;
    }
}
