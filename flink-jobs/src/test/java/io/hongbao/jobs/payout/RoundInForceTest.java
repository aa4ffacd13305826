package io.hongbao.jobs.payout;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.money.Round;
import io.hongbao.money.SettlementRowTypeInfo;
import io.hongbao.money.Tier;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.api.Test;

class RoundInForceTest {

    @Test
    void shouldBeAPojoInBroadcastStateWithTheRoundThroughTheModelsSerializer() throws Exception {
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(RoundInForce.class);
        PojoTypeInfo<RoundInForce> type = (PojoTypeInfo<RoundInForce>) TypeInformation.of(RoundInForce.class);
        assertThat(type.getTypeAt("round")).isEqualTo(new SettlementRowTypeInfo<>(Round.class));

        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        TypeSerializer<RoundInForce> serializer = type.createSerializer(noKryo);
        RoundInForce rules = new RoundInForce(new Round(1, "r", 10, 20, 900, 50_000, 2, 20_000, true, 3,
                List.of(new Tier(1, "small", 100, 888, 1000, 9))), 1_000);
        DataOutputSerializer out = new DataOutputSerializer(128);
        serializer.serialize(rules, out);
        assertThat(serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()))).isEqualTo(rules);
    }
}
