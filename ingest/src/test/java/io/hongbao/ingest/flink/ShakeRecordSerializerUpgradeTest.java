package io.hongbao.ingest.flink;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.apache.flink.FlinkVersion;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerConditions;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerUpgradeTestBase;
import org.assertj.core.api.Condition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Flink's upgrade test over committed golden files ({@code src/test/resources/shake-record-*-2.2/}): a serializer
 * snapshot and a record, both as checkpoints hold them. The current serializer must read the snapshot, be
 * compatible as is, and read the bytes to the same record: a change of the format that old checkpoints cannot
 * take fails here, not in production. The files were written once, by the serializer of that time, with
 * {@code ./mvnw -pl ingest test -Dtest=ShakeRecordSerializerUpgradeTest -Dhongbao.generate-golden=true}; a new
 * format version adds new files, it never rewrites these. Public, with public helpers: Flink loads the setup
 * and verifier classes in a class loader of their own.
 */
public class ShakeRecordSerializerUpgradeTest extends TypeSerializerUpgradeTestBase<ShakeRecord, ShakeRecord> {
    public static final ShakeEvent SHAKE =
            new ShakeEvent(-1L, 2L, 100_000_001L, 9L, 3, Channel.MINI_PROGRAM, "CN-SH", 1000L, 1200L, 77L);

    @Override
    public Collection<FlinkVersion> getMigrationVersions() {
        return List.of(FlinkVersion.v2_2); // the serializer's first release ran on 2.2
    }

    @Override
    public Collection<TestSpecification<?, ?>> createTestSpecifications(FlinkVersion version) throws Exception {
        return List.of(
                new TestSpecification<>("shake-record-shake", version, ShakeSetup.class, ShakeVerifier.class),
                new TestSpecification<>("shake-record-rejected", version, RejectedSetup.class, RejectedVerifier.class),
                new TestSpecification<>("shake-record-tick", version, TickSetup.class, TickVerifier.class));
    }

    @Test
    @EnabledIfSystemProperty(named = "hongbao.generate-golden", matches = "true")
    @SuppressWarnings({"unchecked", "rawtypes"})
    void generateGoldenFiles() throws Exception {
        for (TestSpecification spec : createTestSpecifications(FlinkVersion.current())) {
            generateTestSetupFiles(spec);
        }
    }

    public static ShakeRecord shake() {
        return ShakeRecord.of(DecodeResult.accepted(SHAKE), ShakeEventCodec.encode(SHAKE), "shakes", 3, 1234L, 99L);
    }

    public static ShakeRecord rejected() {
        byte[] garbage = {ShakeEventCodec.FORMAT_V1, 0, 42};
        return ShakeRecord.of(ShakeEventCodec.decode(garbage), garbage, "shakes", 0, 7L, 5L);
    }

    public static ShakeRecord tick() {
        byte[] tick = ShakeEventCodec.encodeTick(1_801_000_001_000L, 4);
        return ShakeRecord.of(ShakeEventCodec.decode(tick), tick, "shakes", 1, 8L, 6L);
    }

    public static Condition<ShakeRecord> sameAs(ShakeRecord expected) {
        return new Condition<>(r -> Objects.equals(r.event, expected.event) && r.rejectReason == expected.rejectReason
                && Objects.equals(r.rejectDetail, expected.rejectDetail) && Arrays.equals(r.raw, expected.raw)
                && r.tickMs == expected.tickMs && Objects.equals(r.topic, expected.topic)
                && r.partition == expected.partition && r.offset == expected.offset
                && r.kafkaTimestampMs == expected.kafkaTimestampMs, "the record written");
    }

    /** Writes one record with the serializer of the time the golden files were made. */
    public abstract static class Writes implements PreUpgradeSetup<ShakeRecord> {
        private final Supplier<ShakeRecord> record;

        protected Writes(Supplier<ShakeRecord> record) {
            this.record = record;
        }

        @Override
        public TypeSerializer<ShakeRecord> createPriorSerializer() {
            return ShakeRecordSerializer.INSTANCE;
        }

        @Override
        public ShakeRecord createTestData() {
            return record.get();
        }
    }

    /** Reads it with today's serializer: compatible as is, the same record. */
    public abstract static class Reads implements UpgradeVerifier<ShakeRecord> {
        private final Supplier<ShakeRecord> record;

        protected Reads(Supplier<ShakeRecord> record) {
            this.record = record;
        }

        @Override
        public TypeSerializer<ShakeRecord> createUpgradedSerializer() {
            return ShakeRecordSerializer.INSTANCE;
        }

        @Override
        public Condition<ShakeRecord> testDataCondition() {
            return sameAs(record.get());
        }

        @Override
        public Condition<TypeSerializerSchemaCompatibility<ShakeRecord>> schemaCompatibilityCondition(
                FlinkVersion version) {
            return TypeSerializerConditions.isCompatibleAsIs();
        }
    }

    public static final class ShakeSetup extends Writes {
        public ShakeSetup() {
            super(ShakeRecordSerializerUpgradeTest::shake);
        }
    }

    public static final class ShakeVerifier extends Reads {
        public ShakeVerifier() {
            super(ShakeRecordSerializerUpgradeTest::shake);
        }
    }

    public static final class RejectedSetup extends Writes {
        public RejectedSetup() {
            super(ShakeRecordSerializerUpgradeTest::rejected);
        }
    }

    public static final class RejectedVerifier extends Reads {
        public RejectedVerifier() {
            super(ShakeRecordSerializerUpgradeTest::rejected);
        }
    }

    public static final class TickSetup extends Writes {
        public TickSetup() {
            super(ShakeRecordSerializerUpgradeTest::tick);
        }
    }

    public static final class TickVerifier extends Reads {
        public TickVerifier() {
            super(ShakeRecordSerializerUpgradeTest::tick);
        }
    }
}
