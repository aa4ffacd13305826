package io.hongbao.money;

import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * Flink's own serializer contract (copies, reuse, sequences, serialized copies, snapshot, duplicate) over the
 * union: one row of every kind, with nulls where a kind allows them.
 */
class SettlementRowSerializerContractTest extends SerializerTestBase<SettlementRow> {

    @Override
    protected TypeSerializer<SettlementRow> createSerializer() {
        return new SettlementRowSerializer<>(SettlementRow.class);
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<SettlementRow> getTypeClass() {
        return SettlementRow.class;
    }

    @Override
    protected SettlementRow[] getTestData() {
        return new SettlementRow[] {Rows.PAYOUT, Rows.LEDGER, Rows.LEDGER_NULLS, Rows.REJECTS, Rows.ROUND,
            Rows.NO_TIERS};
    }
}
