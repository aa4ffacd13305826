package io.hongbao.settlement.sink;

import java.sql.SQLException;

/**
 * The settlement database refused a money rule (V12 migration, SQLSTATE class {@code HB}): a round over its budget
 * in force, a tier over its cap, a user over a per-user cap, a budget moved without its ledger line or beyond the
 * campaign's total. The sink throws it wrapped in Flink's
 * {@link org.apache.flink.runtime.execution.SuppressRestartsException}: restarting would replay into the same
 * refusal.
 */
public final class MoneyRuleViolationException extends Exception {
    private static final long serialVersionUID = 1L;

    MoneyRuleViolationException(String message, SQLException cause) {
        super(message, cause);
    }

    /** Whether the error is one of the money rules' refusals (SQLSTATE class HB, raised by the V12 functions). */
    static boolean isMoneyRule(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("HB");
    }

    /** A round's budget moved with no ledger line setting it (HB201). */
    static boolean isBudgetWithoutLedgerLine(SQLException e) {
        return "HB201".equals(e.getSQLState());
    }
}
