package io.hongbao.jobs.functions;

import io.hongbao.jobs.functions.EventIdTable.Verdict;
import io.hongbao.jobs.payout.PayoutSettings;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The event ids one identity subtask remembers for one round: an {@link EventIdTable} for the lookups, and the
 * ids learned since the last checkpoint, by identity shard, for {@link EventIdentity} to write to keyed state
 * before the barrier. Keyed state holds each shard's ids as a list of chunks, one chunk a shard per checkpoint
 * interval, so a checkpoint writes what is new (incremental on RocksDB), a restore or a rescale reads back
 * exactly the ids of the key groups the subtask owns, and a round's close drops its chunks whole.
 *
 * <p>A chunk: a format byte, then (id hi, id lo, fingerprint) per id, big-endian.
 */
final class RoundIds {
    static final byte CHUNK_FORMAT = 1;
    private static final int ID_BYTES = 24;

    private final EventIdTable table = new EventIdTable(1 << 10);
    /** (hi, lo, fingerprint) triples per shard not written to state yet. */
    private final long[][] pending = new long[PayoutSettings.IDENTITY_SHARDS][];
    private final int[] pendingLength = new int[PayoutSettings.IDENTITY_SHARDS];
    private int[] dirty = new int[64];
    private int dirtyCount;

    /** Where chunks go: the shard's list in keyed state. */
    @FunctionalInterface
    interface ChunkWriter {
        void write(int shard, byte[] chunk) throws Exception;
    }

    /** Judges an id and remembers it when new, to be written with its shard's next chunk. */
    Verdict remember(int shard, long hi, long lo, long fingerprint) {
        Verdict verdict = table.remember(hi, lo, fingerprint);
        if (verdict == Verdict.NEW) {
            append(shard, hi, lo, fingerprint);
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

    /** Writes each shard's ids learned since the last call as one chunk, and forgets them as pending. */
    void writePending(ChunkWriter writer) throws Exception {
        for (int i = 0; i < dirtyCount; i++) {
            int shard = dirty[i];
            long[] ids = pending[shard];
            int length = pendingLength[shard];
            ByteBuffer chunk = ByteBuffer.allocate(1 + length * 8);
            chunk.put(CHUNK_FORMAT);
            for (int j = 0; j < length; j++) {
                chunk.putLong(ids[j]);
            }
            writer.write(shard, chunk.array());
            pending[shard] = null;
            pendingLength[shard] = 0;
        }
        dirtyCount = 0;
    }

    int size() {
        return table.size();
    }

    long heapBytes() {
        return table.heapBytes();
    }

    private void append(int shard, long hi, long lo, long fingerprint) {
        long[] ids = pending[shard];
        int length = pendingLength[shard];
        if (ids == null) {
            ids = pending[shard] = new long[3 * 4];
            if (dirtyCount == dirty.length) {
                dirty = Arrays.copyOf(dirty, dirtyCount * 2);
            }
            dirty[dirtyCount++] = shard;
        } else if (length == ids.length) {
            ids = pending[shard] = Arrays.copyOf(ids, length * 2);
        }
        ids[length] = hi;
        ids[length + 1] = lo;
        ids[length + 2] = fingerprint;
        pendingLength[shard] = length + 3;
    }
}
