package io.hongbao.ingest;

/**
 * SplitMix64's finalizer (Stafford's variant 13), the one copy every module uses: the generator's per-user
 * attributes, the job's event and user shards, the dedupe fingerprint and the payout draw's tier and amount.
 * It is part of what a payout is: changing one bit of it changes who wins on replay, so it stays as it is.
 */
public final class SplitMix64 {
    private SplitMix64() {}

    /** A bijection on 64 bits: distinct inputs give distinct, well-spread outputs. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
