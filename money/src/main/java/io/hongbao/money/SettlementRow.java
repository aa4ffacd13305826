package io.hongbao.money;

import org.apache.flink.api.common.typeinfo.TypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * A row the settlement sink writes: a {@link Payout}, a {@link LedgerEntry}, a {@link RejectCount} or a round's
 * config ({@link Round}). The payout job emits these types from its decisions as they are, and the sink takes them
 * as they come: one representation from decision to row. Flink serializes every one of them, and this union,
 * with {@link SettlementRowSerializer} (never Kryo, never the reflective POJO serializer).
 */
@TypeInfo(SettlementRowTypeInfo.Factory.class)
public sealed interface SettlementRow permits Payout, LedgerEntry, RejectCount, Round {

    /** The union's type information, for {@code returns(...)} and sinks. */
    TypeInformation<SettlementRow> TYPE = new SettlementRowTypeInfo<>(SettlementRow.class);

    /**
     * Throws {@link IllegalArgumentException} naming the row when it breaks the settlement tables' rules (a bug
     * upstream: the sink fails rather than write it).
     */
    void validate();

    /** For {@link #validate()}. */
    static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
