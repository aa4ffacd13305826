package io.hongbao.money;

import java.lang.reflect.Type;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * The type information of a settlement row, or of one kind of row ({@link Payout}, {@link LedgerEntry},
 * {@link RejectCount}, {@link Round}): one opaque field, serialized by {@link SettlementRowSerializer}. Every
 * model type carries {@code @TypeInfo(Factory.class)}, so Flink finds it wherever one is typed.
 */
public final class SettlementRowTypeInfo<T extends SettlementRow> extends TypeInformation<T> {
    private static final long serialVersionUID = 1L;

    private final Class<T> type;

    public SettlementRowTypeInfo(Class<T> type) {
        this.type = type;
    }

    /** Used by Flink's type extraction through {@code @TypeInfo}. */
    public static final class Factory<T extends SettlementRow> extends TypeInfoFactory<T> {
        @Override
        @SuppressWarnings("unchecked")
        public TypeInformation<T> createTypeInfo(Type t, Map<String, TypeInformation<?>> genericParameters) {
            return new SettlementRowTypeInfo<>((Class<T>) t);
        }
    }

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
    public Class<T> getTypeClass() {
        return type;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return new SettlementRowSerializer<>(type);
    }

    @Override
    public String toString() {
        return type.getSimpleName();
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof SettlementRowTypeInfo<?> other && other.type == type;
    }

    @Override
    public int hashCode() {
        return type.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof SettlementRowTypeInfo;
    }
}
