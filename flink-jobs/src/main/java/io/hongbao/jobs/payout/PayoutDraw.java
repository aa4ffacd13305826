package io.hongbao.jobs.payout;

import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;
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
 */
public final class PayoutDraw implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final long TIER_SALT = 0x7469657273616c74L;
    private static final long AMOUNT_SALT = 0x616d6f756e747321L;

    private final long key0;
    private final long key1;
    private transient HashFunction sipHash;

    /** @param key0 first half of the 128-bit campaign secret; @param key1 second half */
    public PayoutDraw(long key0, long key1) {
        this.key0 = key0;
        this.key1 = key1;
    }

    /** The shake's draw value: uniform over 64 bits, fixed for (round, event id) under one secret. */
    public long draw(int roundId, long eventIdHi, long eventIdLo) {
        if (sipHash == null) {
            sipHash = Hashing.sipHash24(key0, key1);
        }
        return sipHash.newHasher(20).putInt(roundId).putLong(eventIdHi).putLong(eventIdLo).hash().asLong();
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
