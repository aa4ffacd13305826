package io.hongbao.jobs.payout;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.jobs.payout.PayoutDraw.Prize;
import io.hongbao.money.Tier;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PayoutDrawTest {
    private static final PayoutDraw DRAW = new PayoutDraw(0x1234L, 0x5678L);
    private static final List<Tier> TIERS = List.of(
            new Tier(1, "small", 100, 888, 1000, 90),
            new Tier(2, "big", 8888, 8888, 10, 10));

    @Test
    void shouldDecideTheSameForTheSameRoundAndEvent() {
        long first = DRAW.draw(3, 11L, 22L);

        assertThat(new PayoutDraw(0x1234L, 0x5678L).draw(3, 11L, 22L)).isEqualTo(first);
        assertThat(DRAW.draw(4, 11L, 22L)).isNotEqualTo(first);
        assertThat(DRAW.draw(3, 11L, 23L)).isNotEqualTo(first);
        assertThat(new PayoutDraw(0x1234L, 0x5679L).draw(3, 11L, 22L)).isNotEqualTo(first);
        assertThat(PayoutDraw.pick(first, TIERS, Long.MAX_VALUE)).isEqualTo(PayoutDraw.pick(first, TIERS, Long.MAX_VALUE));
    }

    @Test
    void shouldDrawWhatGuavasSipHashDraws() {
        // Payouts decided before the draw was written out must come out the same: Guava is the reference.
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 100_000; i++) {
            long k0 = random.nextLong();
            long k1 = random.nextLong();
            int round = i < 10 ? i - 5 : random.nextInt();
            long hi = i < 10 ? -1L : random.nextLong();
            long lo = i < 10 ? Long.MIN_VALUE : random.nextLong();
            long guava = com.google.common.hash.Hashing.sipHash24(k0, k1).newHasher(20).putInt(round).putLong(hi)
                    .putLong(lo).hash().asLong();
            assertThat(new PayoutDraw(k0, k1).draw(round, hi, lo)).as("draw %d", i).isEqualTo(guava);
        }
    }

    @Test
    void shouldWinAtTheConfiguredRate() {
        SplittableRandom ids = new SplittableRandom(1);
        int wins = 0;
        int n = 1_000_000;
        for (int i = 0; i < n; i++) {
            if (PayoutDraw.wins(DRAW.draw(1, ids.nextLong(), ids.nextLong()), 50_000)) {
                wins++;
            }
        }
        // 5% of 1e6: mean 50,000, standard deviation ~218; 5 sigma either way.
        assertThat(wins).isBetween(48_900, 51_100);
        assertThat(PayoutDraw.wins(DRAW.draw(1, 1, 1), 0)).isFalse();
        assertThat(PayoutDraw.wins(DRAW.draw(1, 1, 1), 1_000_000)).isTrue();
    }

    @Test
    void shouldPickTiersByWeightAndAmountsWithinTheRange() {
        SplittableRandom draws = new SplittableRandom(2);
        Map<Integer, Integer> byTier = new HashMap<>();
        for (int i = 0; i < 100_000; i++) {
            Prize prize = PayoutDraw.pick(draws.nextLong(), TIERS, Long.MAX_VALUE);
            byTier.merge(prize.tierId(), 1, Integer::sum);
            if (prize.tierId() == 1) {
                assertThat(prize.amountFen()).isBetween(100L, 888L);
            } else {
                assertThat(prize.amountFen()).isEqualTo(8888L);
            }
        }
        assertThat(byTier.get(2)).isBetween(9_000, 11_000);
    }

    @Test
    void shouldStayWithinTheLimitOrPickNothing() {
        SplittableRandom draws = new SplittableRandom(3);
        for (int i = 0; i < 10_000; i++) {
            Prize prize = PayoutDraw.pick(draws.nextLong(), TIERS, 500);
            assertThat(prize.tierId()).isEqualTo(1);
            assertThat(prize.amountFen()).isBetween(100L, 500L);
        }
        assertThat(PayoutDraw.pick(7L, TIERS, 99)).isNull();
        assertThat(PayoutDraw.pick(7L, List.of(), Long.MAX_VALUE)).isNull();
    }
}
