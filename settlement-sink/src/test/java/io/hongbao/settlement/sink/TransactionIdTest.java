package io.hongbao.settlement.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TransactionIdTest {

    @Test
    void shouldRoundTripThroughItsGid() {
        TransactionId id = new TransactionId("payouts", 3, 41, "a1b2c3d4e5f6", 7);

        assertThat(id.gid()).isEqualTo("hb:payouts:3:41:a1b2c3d4e5f6:7");
        assertThat(TransactionId.parse(id.gid())).contains(id);
        assertThat(id.gid().length()).isLessThan(200); // PostgreSQL's limit for a gid
    }

    @Test
    void shouldIgnoreForeignGids() {
        assertThat(TransactionId.parse("some-other-app-xid")).isEmpty();
        assertThat(TransactionId.parse("hb:payouts:3:41")).isEmpty();
        assertThat(TransactionId.parse("hb:payouts:x:41:ab:1")).isEmpty();
    }

    @Test
    void shouldRefuseSinkNamesThatCouldBreakAGid() {
        assertThatThrownBy(() -> TransactionId.requireSinkName("a:b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TransactionId.requireSinkName("x'; DROP TABLE payout; --"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(TransactionId.literal("it's")).isEqualTo("'it''s'");
    }
}
