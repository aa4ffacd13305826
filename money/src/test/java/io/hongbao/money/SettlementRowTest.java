package io.hongbao.money;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class SettlementRowTest {

    @Test
    void shouldGiveEveryKindAndTheUnionTheRowSerializerWithGenericTypesOff() throws Exception {
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        for (Class<? extends SettlementRow> kind : List.of(SettlementRow.class, Payout.class, LedgerEntry.class,
                RejectCount.class, Round.class)) {
            TypeInformation<? extends SettlementRow> type = TypeInformation.of(kind);
            assertThat(type).isEqualTo(new SettlementRowTypeInfo<>(kind));
            assertThat(type.createSerializer(noKryo)).isInstanceOf(SettlementRowSerializer.class);
        }
        assertThat(SettlementRow.TYPE).isEqualTo(TypeInformation.of(SettlementRow.class));
    }

    @Test
    void shouldReadAKindFromTheUnionsBytesAndRefuseAnotherKind() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        SettlementRow.TYPE.createSerializer(new SerializerConfigImpl()).serialize(Rows.PAYOUT, out);
        byte[] bytes = out.getCopyOfBuffer();

        assertThat(new SettlementRowSerializer<>(Payout.class).deserialize(new DataInputDeserializer(bytes)))
                .isEqualTo(Rows.PAYOUT);
        TypeSerializer<Round> rounds = new SettlementRowSerializer<>(Round.class);
        assertThatThrownBy(() -> rounds.deserialize(new DataInputDeserializer(bytes)))
                .hasMessageContaining("read a Payout where a Round was written");
    }

    @Test
    void shouldDerivePayoutIdFromRoundAndEventAndNameItInJson() throws Exception {
        Payout p = new Payout(3, 1, 7, 100, String.format("%032x", 255), "shakes", 0, 1, 2);

        assertThat(p.payoutId()).isEqualTo("r3-000000000000000000000000000000ff");
        assertThat(new ObjectMapper().readTree(new ObjectMapper().writeValueAsString(p)).path("payoutId").asText())
                .isEqualTo(p.payoutId());
        p.validate();
    }

    @Test
    void shouldRefusePayoutsBreakingTheSchemaRules() {
        String event = String.format("%032x", 5);
        assertThatThrownBy(new Payout(1, 1, 7, 0, event, "shakes", 0, 5, 0)::validate)
                .hasMessageContaining("r1-00000000000000000000000000000005").hasMessageContaining("at least 1 fen");
        assertThatThrownBy(new Payout(1, 1, 7, 10, "XYZ", "shakes", 0, 5, 0)::validate)
                .hasMessageContaining("32 lower-case hex");
        assertThatThrownBy(new Payout(1, 1, 7, 10, event, "", 0, 5, 0)::validate).hasMessageContaining("lineage");
        assertThatThrownBy(new Payout(1, 1, 7, 10, event, "shakes", -1, 5, 0)::validate)
                .hasMessageContaining("lineage");
    }

    @Test
    void shouldRefuseOtherRowsBreakingTheSchemaRules() {
        assertThatThrownBy(new LedgerEntry("", 1, "SWEPT", 0, 0, null, 0, "sweeper")::validate)
                .hasMessageContaining("without an entry id");
        assertThatThrownBy(new LedgerEntry("x", 1, "SWEPT", 0, 0, null, 0, null)::validate)
                .hasMessageContaining("without a source");
        assertThatThrownBy(new RejectCount("LATE", -1)::validate).hasMessageContaining("negative");
        assertThatThrownBy(new Round(1, "r", 20, 10, 0, 0, 1, 1, false, 0, List.of())::validate)
                .hasMessageContaining("ends before it starts");
        assertThatThrownBy(new Round(1, "r", 10, 20, 0, 0, 1, 1, false, 0, List.of(new Tier(1, "t", 0, 5, 1, 1)))
                ::validate).hasMessageContaining("bad tier");
    }

    @Test
    void shouldMakeTheNextVersionOnAChange() {
        Round next = Rows.ROUND.changed(7, false);

        assertThat(next).isEqualTo(new Round(1, Rows.ROUND.name(), Rows.ROUND.startsAtMs(), Rows.ROUND.endsAtMs(), 7,
                100_000, 2, 20_000, false, 4, Rows.ROUND.tiers()));
        assertThat(Rows.ROUND.smallestPrizeFen()).isEqualTo(100);
    }
}
