package io.hongbao.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SplitMix64Test {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    @Test
    void matchesTheReferenceGeneratorSeededWithZero() {
        // SplitMix64 (Steele, Lea, Flood 2014) seeded with 0: its outputs are mix(k * golden gamma).
        assertThat(SplitMix64.mix(GOLDEN_GAMMA)).isEqualTo(0xE220A8397B1DCDAFL);
        assertThat(SplitMix64.mix(2 * GOLDEN_GAMMA)).isEqualTo(0x6E789E6AA1B965F4L);
        assertThat(SplitMix64.mix(3 * GOLDEN_GAMMA)).isEqualTo(0x06C45D188009454FL);
    }
}
