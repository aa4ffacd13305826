package io.hongbao.settlement.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class MoneyTest {

    @Test
    void shouldFormatFenAsYuanExactly() {
        assertThat(Money.formatYuan(1_234_567)).isEqualTo("12,345.67");
        assertThat(Money.formatYuan(0)).isEqualTo("0.00");
        assertThat(Money.formatYuan(5)).isEqualTo("0.05");
        assertThat(Money.formatYuan(-5)).isEqualTo("-0.05");
        assertThat(Money.formatYuan(150_000_000_000L)).isEqualTo("1,500,000,000.00");
        // Beyond a double's 53-bit mantissa: still exact.
        assertThat(Money.formatYuan(Long.MAX_VALUE)).isEqualTo("92,233,720,368,547,758.07");
        assertThat(Money.yuan(1_234_567)).isEqualByComparingTo(new BigDecimal("12345.67"));
    }
}
