package io.hongbao.settlement.sink;

import java.sql.SQLException;

/**
 * The settlement database refused a money rule (V12 migration, SQLSTATE class {@code HB}): a round over its budget
 * in force, a tier over its cap, a user over a per-user cap, a budget moved without its ledger line or beyond the
 * campaign's total, a window moved without its RESCHEDULED line or retroactively, a round added without its
 * ROUND_ADDED line. The sink throws it wrapped in Flink's
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

    /**
     * A round's budget (HB201) or window (HB204: no RESCHEDULED line; HB205: only lines taking effect after a boundary
     * it moves) refused for want of a visible ledger line: the line may still sit in another subtask's transaction of
     * the same checkpoint, so the committer retries before it calls it a violation.
     */
    static boolean mayAwaitLedgerLine(SQLException e) {
        return "HB201".equals(e.getSQLState()) || "HB204".equals(e.getSQLState()) || "HB205".equals(e.getSQLState());
    }

    /** A round to add whose ROUND_ADDED line this transaction does not see (HB207, V14). */
    static boolean isRoundWithoutAddedLine(SQLException e) {
        return "HB207".equals(e.getSQLState());
    }
}
