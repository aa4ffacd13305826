package io.hongbao.money;

import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** The same contract for rounds, as the payout job keeps them in broadcast state. */
class RoundSerializerContractTest extends SerializerTestBase<Round> {

    @Override
    protected TypeSerializer<Round> createSerializer() {
        return new SettlementRowSerializer<>(Round.class);
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<Round> getTypeClass() {
        return Round.class;
    }

    @Override
    protected Round[] getTestData() {
        return new Round[] {Rows.ROUND, Rows.NO_TIERS, Rows.ROUND.changed(1, false)};
    }
}
