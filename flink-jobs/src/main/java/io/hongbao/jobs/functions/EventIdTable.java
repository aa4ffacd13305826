package io.hongbao.jobs.functions;

import static io.hongbao.ingest.SplitMix64.mix;

/**
 * An exact set of 128-bit event ids, each with its content fingerprint, in one primitive array: open addressing
 * with linear probing, three longs a slot. No object per id, so the garbage collector has nothing to trace however
 * many ids it holds, and a lookup reads one slot (one cache line, rarely two) per probe.
 *
 * <p>A slot is empty when its fingerprint is 0, so a fingerprint of 0 is stored as 1: two contents of one id whose
 * fingerprints are 0 and 1 count as the same (a chance of 2^-63, like any fingerprint collision: the copy is
 * dropped as a retry, never paid or counted twice). Ids are compared in full: no probabilistic answer on ids.
 *
 * <p>Not thread-safe (one task thread owns it).
 */
final class EventIdTable {
    /** Slots are rehashed into twice as many when more than this share is used. */
    private static final double MAX_LOAD = 0.75;
    /** Keeps the slot hash independent of the identity shard hash (which picks the subtask). */
    private static final long SLOT_SALT = 0x5eed1d57ab1eL;
    private static final int MAX_CAPACITY = 1 << 29;

    /** hi, lo, fingerprint per slot; fingerprint 0: empty. */
    private long[] slots;
    private int mask;
    private int size;
    private int resizeAt;

    EventIdTable(int expectedIds) {
        int capacity = 16;
        while (capacity * MAX_LOAD < expectedIds && capacity < MAX_CAPACITY) {
            capacity <<= 1;
        }
        allocate(capacity);
    }

    private void allocate(int capacity) {
        slots = new long[capacity * 3];
        mask = capacity - 1;
        resizeAt = (int) (capacity * MAX_LOAD);
    }

    /** What an id's earlier record, if any, says about a new one. */
    enum Verdict {
        /** Not seen: now remembered. */
        NEW,
        /** Seen with the same fingerprint. */
        REPEAT,
        /** Seen with another fingerprint. */
        CONFLICT
    }

    /** Remembers the id with its fingerprint if it is new; otherwise compares the fingerprints. */
    Verdict remember(long hi, long lo, long fingerprint) {
        fingerprint = stored(fingerprint);
        int slot = slotOf(hi, lo);
        while (isUsed(slot)) {
            int at = slot * 3;
            if (slots[at] == hi && slots[at + 1] == lo) {
                return slots[at + 2] == fingerprint ? Verdict.REPEAT : Verdict.CONFLICT;
            }
            slot = (slot + 1) & mask;
        }
        put(slot, hi, lo, fingerprint);
        if (++size > resizeAt) {
            grow();
        }
        return Verdict.NEW;
    }

    /** Whether the id is here, whatever its fingerprint. */
    boolean contains(long hi, long lo) {
        int slot = slotOf(hi, lo);
        while (isUsed(slot)) {
            int at = slot * 3;
            if (slots[at] == hi && slots[at + 1] == lo) {
                return true;
            }
            slot = (slot + 1) & mask;
        }
        return false;
    }

    int size() {
        return size;
    }

    /** Heap bytes held by the arrays (the table's own cost; what the task's memory must hold per live round). */
    long heapBytes() {
        return 8L * slots.length;
    }

    private int slotOf(long hi, long lo) {
        return (int) mix(lo ^ mix(hi ^ SLOT_SALT)) & mask;
    }

    private boolean isUsed(int slot) {
        return slots[slot * 3 + 2] != 0;
    }

    private static long stored(long fingerprint) {
        return fingerprint == 0 ? 1 : fingerprint;
    }

    private void put(int slot, long hi, long lo, long fingerprint) {
        int at = slot * 3;
        slots[at] = hi;
        slots[at + 1] = lo;
        slots[at + 2] = fingerprint;
    }

    private void grow() {
        if (mask + 1 >= MAX_CAPACITY) {
            throw new IllegalStateException("an identity subtask holds " + size + " event ids of one round: the"
                    + " most one table holds; raise the identity operator's parallelism");
        }
        long[] oldSlots = slots;
        allocate((mask + 1) << 1);
        for (int s = 0; s < oldSlots.length / 3; s++) {
            int at = s * 3;
            if (oldSlots[at + 2] != 0) {
                int slot = slotOf(oldSlots[at], oldSlots[at + 1]);
                while (isUsed(slot)) {
                    slot = (slot + 1) & mask;
                }
                put(slot, oldSlots[at], oldSlots[at + 1], oldSlots[at + 2]);
            }
        }
    }
}
