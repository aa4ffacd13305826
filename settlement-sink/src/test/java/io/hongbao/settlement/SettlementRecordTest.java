package io.hongbao.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.settlement.testing.Records;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.api.Test;

class SettlementRecordTest {

    @Test
    void shouldBeAFlinkPojoWithoutKryo() {
        TypeInformation<SettlementRecord> type = TypeInformation.of(SettlementRecord.class);

        assertThat(type).isInstanceOf(PojoTypeInfo.class);
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(SettlementRecord.class);
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(SettlementRecord.RoundConfig.class);
    }

    @Test
    void shouldRoundTripEveryKindThroughFlinksSerializer() throws Exception {
        SerializerConfigImpl config = new SerializerConfigImpl();
        config.setGenericTypes(false);
        TypeSerializer<SettlementRecord> serializer =
                TypeInformation.of(SettlementRecord.class).createSerializer(config);
        SettlementRecord[] records = {
            Records.payout(1, 42),
            SettlementRecord.ledgerEntry("r1-budget-raised-7", 1, "BUDGET_RAISED", 5_000, 105_000, "raise",
                    Records.ROUND_START_MS, "hongbao.control/0/7"),
            SettlementRecord.rejectCount("OUT_OF_WINDOW", 17),
            SettlementRecord.roundConfig(Records.round(1, 100_000, 3, Records.tier(1, 100, 888, 50),
                    Records.tier(2, 8_888, 8_888, 1))),
        };
        for (SettlementRecord r : records) {
            DataOutputSerializer out = new DataOutputSerializer(256);
            serializer.serialize(r, out);
            SettlementRecord back = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertThat(back).isEqualTo(r);
        }
    }

    @Test
    void shouldDerivePayoutIdFromRoundAndEvent() {
        SettlementRecord r = Records.payout(3, 255);

        assertThat(r.kind).isEqualTo(SettlementRecord.Kind.PAYOUT);
        assertThat(r.payout.payoutId).isEqualTo("r3-000000000000000000000000000000ff");
        r.validate();
    }

    @Test
    void shouldRejectPayoutsBreakingTheSchemaRules() {
        SettlementRecord zero = Records.payout(1, 1, 7, 0, 5);
        assertThatThrownBy(zero::validate).hasMessageContaining("r1-00000000000000000000000000000005")
                .hasMessageContaining("at least 1 fen");

        SettlementRecord badEvent = Records.payout(1, 5);
        badEvent.payout.eventId = "XYZ";
        assertThatThrownBy(badEvent::validate).hasMessageContaining("32 lower-case hex");

        SettlementRecord noLineage = Records.payout(1, 6);
        noLineage.payout.kafkaTopic = "";
        assertThatThrownBy(noLineage::validate).hasMessageContaining("lineage");

        SettlementRecord twoPayloads = Records.payout(1, 7);
        twoPayloads.rejectCount = new SettlementRecord.RejectCount();
        assertThatThrownBy(twoPayloads::validate).hasMessageContaining("exactly one");
    }

    @Test
    void shouldCallAnEmptyRecordInvalid() {
        assertThatThrownBy(() -> new SettlementRecord().validate()).hasMessageContaining("without a kind");
    }
}
