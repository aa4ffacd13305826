package io.hongbao.money;

import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** The same contract for one kind, as the decider's and the sweeper's output streams use it. */
class PayoutSerializerContractTest extends SerializerTestBase<Payout> {

    @Override
    protected TypeSerializer<Payout> createSerializer() {
        return new SettlementRowSerializer<>(Payout.class);
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<Payout> getTypeClass() {
        return Payout.class;
    }

    @Override
    protected Payout[] getTestData() {
        return new Payout[] {Rows.PAYOUT, new Payout(1, 1, 0, 1, "00000000000000000000000000000001", null, 0, 0, 0)};
    }
}
