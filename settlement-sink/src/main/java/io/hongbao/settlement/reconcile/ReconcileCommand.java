package io.hongbao.settlement.reconcile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hongbao.settlement.DatabaseOptions;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.reconcile.ReconciliationResult.CheckResult;
import io.hongbao.settlement.reconcile.ReconciliationResult.Count;
import io.hongbao.settlement.reconcile.ReconciliationResult.RoundFigures;
import io.hongbao.settlement.reconcile.ReconciliationResult.RoundSchedule;
import io.hongbao.settlement.reconcile.ReconciliationResult.ScheduleLine;
import io.hongbao.settlement.reconcile.ReconciliationResult.TierFigures;
import io.hongbao.settlement.reconcile.ReconciliationResult.Violation;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Reconciles the settlement tables: budgets, tier caps, user caps, duplicates, lineage, as the reconciliation
 * views define them (see {@link Reconciliation}). Prints a table, optionally writes a JSON report, exits 0 when
 * every check holds and 1 otherwise (also when the database cannot be read); 2 on a usage error. Text from the
 * database is printed escaped ({@link Printable}).
 *
 * <pre>
 * HONGBAO_PG_PASSWORD=... java -cp ... io.hongbao.settlement.reconcile.ReconcileCommand \
 *     --jdbc-url jdbc:postgresql://127.0.0.1:5432/hongbao --user hongbao --report reconcile.json
 * </pre>
 */
@Command(name = "reconcile", mixinStandardHelpOptions = true,
        description = "Check the settlement tables: budgets, tier caps, per-user caps, duplicates, Kafka lineage.",
        footer = "Exit codes: 0 all checks hold, 1 a check failed or the database could not be read, 2 usage error.")
public final class ReconcileCommand implements Callable<Integer> {
    static final String PASSWORD_ENV = DatabaseOptions.PASSWORD_ENV;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    DatabaseOptions database;

    @Option(names = "--manifest", description = "the generator's manifest: also check interaction and reject counts "
            + "against its expected figures")
    Path manifest;

    @Option(names = "--report", description = "write the result as JSON to this file")
    Path report;

    @Option(names = "--max-listed", defaultValue = "20", description = "violations listed per check (default ${DEFAULT-VALUE}; all are counted)")
    int maxListed;

    private final Map<String, String> env;

    public ReconcileCommand() {
        this(System.getenv());
    }

    /** With the environment the password may come from ({@value #PASSWORD_ENV}), for embedding and tests. */
    public ReconcileCommand(Map<String, String> env) {
        this.env = env;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ReconcileCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ReconciliationResult result;
        try {
            SettlementDatabase db = database.database(env);
            try (Connection c = db.connect("hongbao-reconcile")) {
                Reconciliation reconciliation = new Reconciliation(maxListed);
                if (manifest != null) {
                    reconciliation.expecting(ExpectedCounts.fromManifest(manifest));
                }
                result = reconciliation.run(c);
            }
        } catch (SQLException | IOException | IllegalArgumentException e) {
            err.println("reconcile: cannot read the settlement tables: " + text(e.getMessage()));
            return 1;
        }
        printTable(result, out);
        if (report != null) {
            try {
                writeReport(result, report);
                out.println("Report written to " + text(report.toString()));
            } catch (IOException e) {
                err.println("reconcile: cannot write " + text(report.toString()) + ": " + text(e.getMessage()));
                return 1;
            }
        }
        out.flush();
        return result.passed() ? 0 : 1;
    }

    /** The table finance reads; every text from the database goes through {@link Printable#escape}. */
    static void printTable(ReconciliationResult result, PrintWriter out) {
        out.println("Rounds");
        // Names last and whole: a clipped name could hide how two names differ, and nothing after it can shift.
        out.printf("%6s %20s %12s %20s %20s  %-11s  %s%n", "round", "budget (yuan)", "payouts", "paid (yuan)",
                "remaining (yuan)", "status", "name");
        for (RoundFigures r : result.rounds()) {
            out.printf("%6d %20s %12s %20s %20s  %-11s  %s%n", r.roundId(), r.budgetYuan(), Money.formatCount(r.payouts()),
                    r.paidYuan(), r.remainingYuan(), r.overBudget() ? "OVER BUDGET" : "ok", text(r.name()));
        }
        out.println();
        out.println("Prize tiers");
        out.printf("%6s %5s %12s %12s %20s  %-11s  %s%n", "round", "tier", "cap", "paid", "paid (yuan)", "status", "name");
        for (TierFigures t : result.tiers()) {
            out.printf("%6d %5d %12s %12s %20s  %-11s  %s%n", t.roundId(), t.tierId(), Money.formatCount(t.countCap()),
                    Money.formatCount(t.payouts()), t.paidYuan(), t.overCap() ? "OVER CAP" : "ok", text(t.name()));
        }
        out.println();
        out.println("Schedule as applied (UTC)");
        out.printf("%6s  %-45s %7s  %-45s %-5s  %s%n", "round", "window", "version", "registered window", "added",
                "name");
        for (RoundSchedule r : result.schedule()) {
            out.printf("%6d  %-45s %7s  %-45s %-5s  %s%n", r.roundId(), window(r.startsAt(), r.endsAt()),
                    "v" + r.configVersion(), window(r.registeredStartsAt(), r.registeredEndsAt()),
                    r.added() ? "yes" : "no", text(r.name()));
            for (ScheduleLine l : r.lines()) {
                String move = !l.kind().equals("RESCHEDULED") ? ""
                        : l.applied() ? ", applied v" + l.appliedVersion() + ": " + window(l.oldStartsAt(),
                                l.oldEndsAt()) + " -> " + window(l.newStartsAt(), l.newEndsAt())
                        : ", not applied";
                out.printf("          %s %s effective %s%s, source %s: %s%n", text(l.kind()), text(l.entryId()),
                        l.effectiveAt(), move, text(l.source()), text(l.detail()));
            }
        }
        out.println();
        out.println("Checks");
        for (CheckResult check : result.checks()) {
            long n = check.violations();
            out.printf("  %-28s %s%n", text(check.name()), n == 0 ? "ok" : "FAILED: " + Money.formatCount(n) + " violation(s)");
            List<Violation> listed = result.violations(check.name());
            for (Violation v : listed) {
                boolean roundNamed = v.roundId() == null || v.subject() == null || v.subject().startsWith("round ");
                out.printf("      %s%s: %s%n", roundNamed ? "" : "round " + v.roundId() + ", ", text(v.subject()),
                        text(v.detail()));
            }
            if (n > listed.size()) {
                out.printf("      ... and %s more%n", Money.formatCount(n - listed.size()));
            }
        }
        if (result.pendingPreparedTransactions() > 0) {
            out.printf("  note: %d settlement transaction(s) prepared but not yet committed%n",
                    result.pendingPreparedTransactions());
        }
        out.println();
        out.println(result.passed() ? "RECONCILIATION PASSED"
                : "RECONCILIATION FAILED: " + Money.formatCount(result.totalViolations()) + " violation(s)");
    }

    /**
     * The JSON report: the same figures, checks and listed violations as the table (the drills read it with jq).
     * Its text is escaped like the table's, so a {@code jq -r} of any field prints no control character either.
     */
    static void writeReport(ReconciliationResult result, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("passed", result.passed());
        root.put("totalViolations", result.totalViolations());
        root.put("pendingPreparedTransactions", result.pendingPreparedTransactions());
        ArrayNode rounds = root.putArray("rounds");
        for (RoundFigures r : result.rounds()) {
            ObjectNode n = rounds.addObject();
            n.put("roundId", r.roundId());
            n.put("name", text(r.name()));
            n.put("budgetFen", r.budgetFen());
            n.put("budgetYuan", Money.yuan(r.budgetFen()).toPlainString());
            n.put("payouts", r.payouts());
            n.put("paidFen", r.paidFen());
            n.put("paidYuan", Money.yuan(r.paidFen()).toPlainString());
            n.put("remainingFen", r.remainingFen());
            n.put("remainingYuan", Money.yuan(r.remainingFen()).toPlainString());
            n.put("overBudget", r.overBudget());
            n.put("swept", r.swept());
        }
        ArrayNode tiers = root.putArray("tiers");
        for (TierFigures t : result.tiers()) {
            ObjectNode n = tiers.addObject();
            n.put("roundId", t.roundId());
            n.put("tierId", t.tierId());
            n.put("name", text(t.name()));
            n.put("countCap", t.countCap());
            n.put("payouts", t.payouts());
            n.put("paidFen", t.paidFen());
            n.put("paidYuan", Money.yuan(t.paidFen()).toPlainString());
            n.put("overCap", t.overCap());
        }
        ArrayNode schedule = root.putArray("schedule");
        for (RoundSchedule r : result.schedule()) {
            ObjectNode n = schedule.addObject();
            n.put("roundId", r.roundId());
            n.put("name", text(r.name()));
            n.put("startsAt", r.startsAt().toString());
            n.put("endsAt", r.endsAt().toString());
            n.put("configVersion", r.configVersion());
            n.put("registeredStartsAt", r.registeredStartsAt().toString());
            n.put("registeredEndsAt", r.registeredEndsAt().toString());
            n.put("added", r.added());
            ArrayNode lines = n.putArray("lines");
            for (ScheduleLine l : r.lines()) {
                ObjectNode line = lines.addObject();
                line.put("kind", text(l.kind()));
                line.put("entryId", text(l.entryId()));
                line.put("effectiveAt", l.effectiveAt().toString());
                line.put("applied", l.applied());
                if (l.appliedVersion() != null) {
                    line.put("appliedVersion", l.appliedVersion());
                    line.put("oldStartsAt", l.oldStartsAt().toString());
                    line.put("oldEndsAt", l.oldEndsAt().toString());
                    line.put("newStartsAt", l.newStartsAt().toString());
                    line.put("newEndsAt", l.newEndsAt().toString());
                }
                line.put("source", text(l.source()));
                line.put("detail", text(l.detail()));
            }
        }
        if (result.counts() != null) {
            ObjectNode counts = root.putObject("counts");
            ArrayNode interactions = counts.putArray("interactionsPerRound");
            for (Count c : result.counts().interactionsPerRound()) {
                interactions.addObject().put("roundId", Integer.parseInt(c.key())).put("counted", c.counted())
                        .put("expected", c.expected());
            }
            ArrayNode rejected = counts.putArray("rejectedPerReason");
            for (Count c : result.counts().rejectedPerReason()) {
                rejected.addObject().put("reason", text(c.key())).put("counted", c.counted()).put("expected", c.expected());
            }
        }
        ObjectNode checks = root.putObject("checks");
        for (CheckResult check : result.checks()) {
            ObjectNode n = checks.putObject(text(check.name()));
            n.put("rule", text(check.rule()));
            n.put("violations", check.violations());
            n.put("status", check.passed() ? "PASS" : "FAIL");
            ArrayNode listed = n.putArray("listed");
            for (Violation v : result.violations(check.name())) {
                ObjectNode l = listed.addObject();
                if (v.roundId() != null) {
                    l.put("roundId", v.roundId());
                }
                if (v.tierId() != null) {
                    l.put("tierId", v.tierId());
                }
                if (v.userId() != null) {
                    l.put("userId", v.userId());
                }
                l.put("subject", text(v.subject()));
                l.put("expected", text(v.expected()));
                l.put("actual", text(v.actual()));
                l.put("detail", text(v.detail()));
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        json.writeValue(file.toFile(), root);
    }

    private static String window(Instant start, Instant end) {
        return "[" + start + ", " + end + ")";
    }

    private static String text(String s) {
        return Printable.escape(s);
    }
}
