package io.hongbao.jobs.payout;

import io.hongbao.ingest.SplitMix64;
import io.hongbao.money.Tier;
import java.io.Serializable;
import java.util.List;

/**
 * The lottery: whether a shake wins, which tier and how many fen, decided only by (round, event id, the tiers
 * offered and the limit), so a replay decides the same wherever the state is the same.
 *
 * <p>Keyed SipHash-2-4 over the round and event id, with a campaign secret: clients choose their own event
 * ids, so an unkeyed hash would let a client grind ids that win. Probabilities are parts per million and
 * amounts integer fen; no floating point touches the decision.
 *
 * <p>The hash is SipHash-2-4 written out for this one fixed input (an int and two longs, 20 bytes, as Guava's
 * {@code Hashing.sipHash24(k0, k1).newHasher().putInt(..).putLong(..).putLong(..)} lays them out): it runs for
 * every distinct shake, and Guava's streaming hasher allocates a hasher and its buffer per call. The draws are
 * Guava's bit for bit ({@code PayoutDrawTest} checks against it), so payouts stay what they were.
 */
public final class PayoutDraw implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final long TIER_SALT = 0x7469657273616c74L;
    private static final long AMOUNT_SALT = 0x616d6f756e747321L;

    private final long key0;
    private final long key1;

    /** @param key0 first half of the 128-bit campaign secret; @param key1 second half */
    public PayoutDraw(long key0, long key1) {
        this.key0 = key0;
        this.key1 = key1;
    }

    /** The shake's draw value: uniform over 64 bits, fixed for (round, event id) under one secret. */
    public long draw(int roundId, long eventIdHi, long eventIdLo) {
        return sipHash24(key0, key1, roundId, eventIdHi, eventIdLo);
    }

    /** SipHash-2-4 of the little-endian bytes of {@code a}, {@code b}, {@code c} (20 bytes). */
    static long sipHash24(long k0, long k1, int a, long b, long c) {
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;
        long m0 = (a & 0xFFFFFFFFL) | (b << 32);
        long m1 = (b >>> 32) | (c << 32);
        long m2 = (c >>> 32) | (20L << 56); // the last 4 bytes and the length, as SipHash ends a message
        for (int w = 0; w < 3; w++) {
            long m = w == 0 ? m0 : w == 1 ? m1 : m2;
            v3 ^= m;
            for (int round = 0; round < 2; round++) {
                v0 += v1; v2 += v3; v1 = Long.rotateLeft(v1, 13); v3 = Long.rotateLeft(v3, 16);
                v1 ^= v0; v3 ^= v2; v0 = Long.rotateLeft(v0, 32);
                v2 += v1; v0 += v3; v1 = Long.rotateLeft(v1, 17); v3 = Long.rotateLeft(v3, 21);
                v1 ^= v2; v3 ^= v0; v2 = Long.rotateLeft(v2, 32);
            }
            v0 ^= m;
        }
        v2 ^= 0xFF;
        for (int round = 0; round < 4; round++) {
            v0 += v1; v2 += v3; v1 = Long.rotateLeft(v1, 13); v3 = Long.rotateLeft(v3, 16);
            v1 ^= v0; v3 ^= v2; v0 = Long.rotateLeft(v0, 32);
            v2 += v1; v0 += v3; v1 = Long.rotateLeft(v1, 17); v3 = Long.rotateLeft(v3, 21);
            v1 ^= v2; v3 ^= v0; v2 = Long.rotateLeft(v2, 32);
        }
        return v0 ^ v1 ^ v2 ^ v3;
    }

    /** Whether a draw wins at {@code winPerMillion} parts per million. */
    public static boolean wins(long draw, int winPerMillion) {
        return Long.remainderUnsigned(draw, 1_000_000L) < winPerMillion;
    }

    /**
     * Picks a tier among {@code open} by weight and an amount within its range capped at {@code limitFen}.
     *
     * @param open the tiers to draw from, in a fixed order (by tier id)
     * @param limitFen the most this payout may be (the user's headroom, or also the budget left)
     * @return the prize, or null when no tier offered has an amount within the limit
     */
    public static Prize pick(long draw, List<Tier> open, long limitFen) {
        long totalWeight = 0;
        for (Tier t : open) {
            if (t.minFen() <= limitFen) {
                totalWeight += t.weight();
            }
        }
        if (totalWeight == 0) {
            return null;
        }
        long point = Long.remainderUnsigned(SplitMix64.mix(draw ^ TIER_SALT), totalWeight);
        for (Tier t : open) {
            if (t.minFen() > limitFen) {
                continue;
            }
            if (point < t.weight()) {
                long max = Math.min(t.maxFen(), limitFen);
                long amount = t.minFen() + Long.remainderUnsigned(SplitMix64.mix(draw ^ AMOUNT_SALT), max - t.minFen() + 1);
                return new Prize(t.tierId(), amount);
            }
            point -= t.weight();
        }
        throw new IllegalStateException("weights changed during the pick");
    }


    /** What a winning shake gets. */
    public record Prize(int tierId, long amountFen) implements Serializable {}
}
