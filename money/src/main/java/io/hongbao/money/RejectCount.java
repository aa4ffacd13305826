package io.hongbao.money;

import static io.hongbao.money.SettlementRow.check;

import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * The running total of records rejected for one reason (a row of {@code rejected_count}): an absolute value, not
 * an increment, so writing it again after a replay adds nothing.
 */
@TypeInfo(SettlementRowTypeInfo.Factory.class)
public record RejectCount(String reason, long records) implements SettlementRow {

    public RejectCount {
        Objects.requireNonNull(reason, "reason");
    }

    @Override
    public void validate() {
        check(!reason.isEmpty(), "reject count without a reason");
        check(records >= 0, "reject count " + reason + " is negative: " + records);
    }

    @Override
    public String toString() {
        return reason + "=" + records;
    }
}
