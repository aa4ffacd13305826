package io.hongbao.jobs.payout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BudgetSplitTest {

    @ParameterizedTest
    @CsvSource({"1000000, 10000, 7", "10000000000, 10000, 256", "30000000000, 0, 128", "1, 10000, 4",
        "999999, 1000000, 3", "9223372036854775807, 123456, 4096", "20, 10000, 1000"})
    void shouldAddSharesAndReserveUpToTheWholeExactly(long total, int reservePerMillion, int shards) {
        long sum = BudgetSplit.reserve(total, reservePerMillion);
        long smallest = Long.MAX_VALUE;
        long largest = 0;
        for (int shard = 0; shard < shards; shard++) {
            long share = BudgetSplit.share(total, reservePerMillion, shards, shard);
            sum += share;
            smallest = Math.min(smallest, share);
            largest = Math.max(largest, share);
        }

        assertThat(sum).isEqualTo(total);
        assertThat(largest - smallest).isLessThanOrEqualTo(1);
    }

    @Test
    void shouldHoldBackTheReserveShare() {
        assertThat(BudgetSplit.reserve(10_000_000_000L, 10_000)).isEqualTo(100_000_000L);
        assertThat(BudgetSplit.reserve(1_000_000L, 0)).isZero();
        assertThat(BudgetSplit.reserve(1_000_000L, 1_000_000)).isEqualTo(1_000_000L);
    }

    @Test
    void shouldRefuseShardsOutOfRange() {
        assertThatThrownBy(() -> BudgetSplit.share(100, 0, 4, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BudgetSplit.share(100, -1, 4, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
