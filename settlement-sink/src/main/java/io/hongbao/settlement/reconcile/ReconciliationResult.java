package io.hongbao.settlement.reconcile;

import java.util.List;
import java.util.Map;

/**
 * What {@link Reconciliation} found: per round and per tier figures, and every violated rule. The JSON report
 * is not this object as it is: {@code ReconcileCommand.writeReport} maps it field by field and adds the yuan
 * figures.
 *
 * @param violationCounts how many violations each check found (every check is listed, 0 when it holds)
 * @param violations the violations themselves, at most {@code maxListedPerCheck} per check
 * @param pendingPreparedTransactions settlement transactions prepared but not yet committed (normal while a
 *     job runs; after the job has stopped they are either committed on restore or orphans)
 */
public record ReconciliationResult(List<RoundFigures> rounds, List<TierFigures> tiers, Map<Check, Long> violationCounts,
        List<Violation> violations, long pendingPreparedTransactions) {

    public boolean passed() {
        return violationCounts.values().stream().allMatch(n -> n == 0);
    }

    public long violationCount(Check check) {
        return violationCounts.getOrDefault(check, 0L);
    }

    public long totalViolations() {
        return violationCounts.values().stream().mapToLong(Long::longValue).sum();
    }

    public List<Violation> violations(Check check) {
        return violations.stream().filter(v -> v.check() == check).toList();
    }

    /** One round: budget against what was paid. */
    public record RoundFigures(int roundId, String name, long budgetFen, long payouts, long paidFen) {
        public long remainingFen() {
            return budgetFen - paidFen;
        }

        public String budgetYuan() {
            return Money.formatYuan(budgetFen);
        }

        public String paidYuan() {
            return Money.formatYuan(paidFen);
        }

        public String remainingYuan() {
            return Money.formatYuan(remainingFen());
        }

        public boolean overBudget() {
            return paidFen > budgetFen;
        }
    }

    /** One tier: packets paid against its cap. */
    public record TierFigures(int roundId, int tierId, String name, long countCap, long payouts, long paidFen) {
        public boolean overCap() {
            return payouts > countCap;
        }

        public String paidYuan() {
            return Money.formatYuan(paidFen);
        }
    }

    /** One broken rule: which check, where, and what was seen. */
    public record Violation(Check check, Integer roundId, String subject, String detail) {}
}
