package io.hongbao.settlement.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.money.RejectCount;
import io.hongbao.settlement.testing.Records;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerialization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Round trips, and committables as the committer's checkpointed state holds them (Flink's version-and-bytes
 * framing) in committed golden files under {@code src/test/resources/settlement-committable/}: this build must
 * read each one an earlier build wrote, and write the same bytes while its version is the same, so a format change
 * without a new version fails here instead of failing a restore. The files were written once with {@code ./mvnw
 * -pl settlement-sink test -Dtest=SettlementCommittableSerializerTest -Dhongbao.generate-golden=true}; a new
 * version adds files, the old ones stay.
 */
class SettlementCommittableSerializerTest {
    private static final Path GOLDEN = Path.of("src/test/resources/settlement-committable");
    private final SettlementCommittableSerializer serializer = new SettlementCommittableSerializer();

    static SettlementCommittable withUpserts() {
        return new SettlementCommittable("hb:payouts:0:5:abc:2", "payouts", 0, 120, 3, 98_765,
                List.of(Records.round(1, 500_000, 2, Records.tier(1, 100, 888, 1000), Records.tier(2, 8_888, 8_888, 3))),
                List.of(new RejectCount("UNDECODABLE", 4),
                        new RejectCount("UNKNOWN_ROUND", 11)));
    }

    static SettlementCommittable withoutTransaction() {
        return new SettlementCommittable(null, "payouts", 1, 0, 0, 0, List.of(),
                List.of(new RejectCount("OVERSIZED", 1)));
    }

    @Test
    void shouldRoundTripACommittableWithUpserts() throws IOException {
        SettlementCommittable c = withUpserts();
        assertThat(serializer.deserialize(serializer.getVersion(), serializer.serialize(c))).isEqualTo(c);
    }

    @Test
    void shouldRoundTripACommittableWithoutTransaction() throws IOException {
        SettlementCommittable c = withoutTransaction();
        assertThat(serializer.deserialize(1, serializer.serialize(c))).isEqualTo(c);
    }

    @Test
    void shouldRefuseUnknownVersions() {
        assertThatThrownBy(() -> serializer.deserialize(99, new byte[0])).hasMessageContaining("version 99");
    }

    @Test
    void shouldReadAndWriteTheGoldenVersion1Bytes() throws Exception {
        golden("v1-with-upserts", withUpserts());
        golden("v1-without-transaction", withoutTransaction());
        assertThat(serializer.getVersion()).as("a new version needs golden files of its own").isEqualTo(1);
    }

    private void golden(String name, SettlementCommittable expected) throws Exception {
        byte[] golden = Files.readAllBytes(GOLDEN.resolve(name));
        assertThat(SimpleVersionedSerialization.readVersionAndDeSerialize(serializer, golden)).isEqualTo(expected);
        assertThat(SimpleVersionedSerialization.writeVersionAndSerialize(serializer, expected)).isEqualTo(golden);
    }

    @Test
    @EnabledIfSystemProperty(named = "hongbao.generate-golden", matches = "true")
    void generateGoldenFiles() throws Exception {
        Files.createDirectories(GOLDEN);
        String v = "v" + serializer.getVersion();
        Files.write(GOLDEN.resolve(v + "-with-upserts"),
                SimpleVersionedSerialization.writeVersionAndSerialize(serializer, withUpserts()));
        Files.write(GOLDEN.resolve(v + "-without-transaction"),
                SimpleVersionedSerialization.writeVersionAndSerialize(serializer, withoutTransaction()));
    }
}
