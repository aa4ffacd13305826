package io.hongbao.settlement.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.money.RejectCount;
import io.hongbao.settlement.testing.Records;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class SettlementCommittableSerializerTest {
    private final SettlementCommittableSerializer serializer = new SettlementCommittableSerializer();

    @Test
    void shouldRoundTripACommittableWithUpserts() throws IOException {
        SettlementCommittable c = new SettlementCommittable("hb:payouts:0:5:abc:2", "payouts", 0, 120, 3, 98_765,
                List.of(Records.round(1, 500_000, 2, Records.tier(1, 100, 888, 1000), Records.tier(2, 8_888, 8_888, 3))),
                List.of(new RejectCount("UNDECODABLE", 4),
                        new RejectCount("UNKNOWN_ROUND", 11)));

        assertThat(serializer.deserialize(serializer.getVersion(), serializer.serialize(c))).isEqualTo(c);
    }

    @Test
    void shouldRoundTripACommittableWithoutTransaction() throws IOException {
        SettlementCommittable c = new SettlementCommittable(null, "payouts", 1, 0, 0, 0, List.of(),
                List.of(new RejectCount("OVERSIZED", 1)));

        assertThat(serializer.deserialize(1, serializer.serialize(c))).isEqualTo(c);
    }

    @Test
    void shouldRefuseUnknownVersions() {
        assertThatThrownBy(() -> serializer.deserialize(99, new byte[0])).hasMessageContaining("version 99");
    }
}
