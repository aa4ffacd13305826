package io.hongbao.settlement.reconcile;

import java.util.LinkedHashMap;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What {@link Reconciliation} read from the reconciliation views in one snapshot: per round and per tier figures,
 * every check with its violation count, the first violations of each, and (with a manifest) the counts compared.
 * {@link ReconcileCommand} prints it and writes its JSON report from it.
 *
 * @param checks every check in report order with its violation count: the views' (reconciliation_summary),
 *     then, with a manifest, {@link Reconciliation#INTERACTION_COUNT_MISMATCH} and
 *     {@link Reconciliation#REJECT_COUNT_MISMATCH}
 * @param violations the violations themselves, at most {@code maxListedPerCheck} per check
 * @param pendingPreparedTransactions settlement transactions prepared but not yet committed (normal while a
 *     job runs; after the job has stopped they are either committed on restore or orphans)
 * @param counts the job's counts against the manifest's, null without a manifest
 * @param schedule each round's window as applied, with its schedule ledger lines (view round_schedule, V14)
 */
public record ReconciliationResult(List<RoundFigures> rounds, List<TierFigures> tiers, List<CheckResult> checks,
        List<Violation> violations, long pendingPreparedTransactions, ManifestCounts counts,
        List<RoundSchedule> schedule) {

    public boolean passed() {
        return checks.stream().allMatch(CheckResult::passed);
    }

    /** Violations per check name, in report order (every check is there, 0 when it holds). */
    public Map<String, Long> violationCounts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        checks.forEach(c -> counts.put(c.name(), c.violations()));
        return counts;
    }

    /** The violations of one check; 0 for a check that was not run. */
    public long violationCount(String check) {
        return checks.stream().filter(c -> c.name().equals(check)).mapToLong(CheckResult::violations).sum();
    }

    public long totalViolations() {
        return checks.stream().mapToLong(CheckResult::violations).sum();
    }

    public List<Violation> violations(String check) {
        return violations.stream().filter(v -> v.check().equals(check)).toList();
    }

    /** One round, as reconciliation_round has it: budget against what was paid, and whether the job swept it. */
    public record RoundFigures(int roundId, String name, long budgetFen, long payouts, long paidFen, long remainingFen,
            boolean overBudget, boolean swept) {
        public String budgetYuan() {
            return Money.formatYuan(budgetFen);
        }

        public String paidYuan() {
            return Money.formatYuan(paidFen);
        }

        public String remainingYuan() {
            return Money.formatYuan(remainingFen);
        }
    }

    /**
     * One round's schedule as applied (view round_schedule): its window now and config version, the window it was
     * registered with, whether the job added it (a ROUND_ADDED line), and its RESCHEDULED / ROUND_ADDED lines in
     * order.
     */
    public record RoundSchedule(int roundId, String name, Instant startsAt, Instant endsAt, int configVersion,
            Instant registeredStartsAt, Instant registeredEndsAt, boolean added, List<ScheduleLine> lines) {}

    /**
     * One schedule line of a round: a RESCHEDULED line with the move it made once applied ({@code applied}, the
     * window before and after, the config version; all null while not applied), or a ROUND_ADDED line.
     */
    public record ScheduleLine(String kind, String entryId, Instant effectiveAt, String detail, String source,
            boolean applied, Integer appliedVersion, Instant oldStartsAt, Instant oldEndsAt, Instant newStartsAt,
            Instant newEndsAt) {}

    /** One tier, as reconciliation_tier has it: packets paid against its cap. */
    public record TierFigures(int roundId, int tierId, String name, long countCap, long payouts, long paidFen,
            boolean overCap) {
        public String paidYuan() {
            return Money.formatYuan(paidFen);
        }
    }

    /** One check: its name, the rule that holds when it passes, and how many violations it found. */
    public record CheckResult(String name, String rule, long violations) {
        public boolean passed() {
            return violations == 0;
        }
    }

    /**
     * One broken rule, a row of reconciliation_violation: which check, where (round, tier, user where the check
     * has them), what breaks it, what the rule expects and what the tables hold.
     */
    public record Violation(String check, Integer roundId, Integer tierId, Long userId, String subject, String expected,
            String actual, String detail) {}

    /** The job's interaction counts per round and reject counts per reason, against the manifest's. */
    public record ManifestCounts(List<Count> interactionsPerRound, List<Count> rejectedPerReason) {}

    /** One count: of a round ({@code key} its id) or a reject reason ({@code key} the reason). */
    public record Count(String key, long counted, long expected) {
        public boolean matches() {
            return counted == expected;
        }
    }
}
