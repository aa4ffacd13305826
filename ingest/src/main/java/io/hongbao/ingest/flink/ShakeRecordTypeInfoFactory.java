package io.hongbao.ingest.flink;

import java.lang.reflect.Type;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Makes Flink use {@link ShakeRecordSerializer} wherever a {@link ShakeRecord} is typed (via {@code @TypeInfo}). */
public final class ShakeRecordTypeInfoFactory extends TypeInfoFactory<ShakeRecord> {
    @Override
    public TypeInformation<ShakeRecord> createTypeInfo(Type t, Map<String, TypeInformation<?>> genericParameters) {
        return new ShakeRecordTypeInfo();
    }

    /** The type information of a shake record: one opaque field, serialized by {@link ShakeRecordSerializer}. */
    public static final class ShakeRecordTypeInfo extends TypeInformation<ShakeRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean isBasicType() {
            return false;
        }

        @Override
        public boolean isTupleType() {
            return false;
        }

        @Override
        public int getArity() {
            return 1;
        }

        @Override
        public int getTotalFields() {
            return 1;
        }

        @Override
        public Class<ShakeRecord> getTypeClass() {
            return ShakeRecord.class;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<ShakeRecord> createSerializer(SerializerConfig config) {
            return ShakeRecordSerializer.INSTANCE;
        }

        @Override
        public String toString() {
            return "ShakeRecord";
        }

        @Override
        public boolean equals(Object obj) {
            return obj instanceof ShakeRecordTypeInfo;
        }

        @Override
        public int hashCode() {
            return ShakeRecordTypeInfo.class.hashCode();
        }

        @Override
        public boolean canEqual(Object obj) {
            return obj instanceof ShakeRecordTypeInfo;
        }
    }
}
