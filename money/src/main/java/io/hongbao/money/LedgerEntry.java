package io.hongbao.money;

import static io.hongbao.money.SettlementRow.check;

import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * One line of a round's ledger (a row of {@code round_ledger}, inserted once, never updated): a config change
 * applied or refused, or the round's sweep. Its entry id is deterministic, so a replay writes the same line.
 *
 * @param kind CONFIGURED, BUDGET_RAISED, BUDGET_LOWERED, PAUSED, RESUMED, CHANGE_REFUSED, CHANGE_REPEATED, SWEPT
 * @param amountFen signed change of the budget in fen; 0 when the budget does not change
 * @param source where the change came from: control-topic lineage "topic/partition/offset", "profile:…" or
 *     "sweeper"
 */
@TypeInfo(SettlementRowTypeInfo.Factory.class)
public record LedgerEntry(String entryId, int roundId, String kind, long amountFen, long budgetFenAfter,
        String detail, long effectiveAtMs, String source) implements SettlementRow {

    @Override
    public void validate() {
        check(entryId != null && !entryId.isEmpty(), "ledger entry without an entry id");
        check(kind != null && !kind.isEmpty(), "ledger entry " + entryId + " without a kind");
        check(source != null, "ledger entry " + entryId + " without a source");
    }

    @Override
    public String toString() {
        return entryId + " round " + roundId + " " + kind + " " + amountFen + " -> " + budgetFenAfter + " (" + detail
                + ")";
    }
}
