package io.hongbao.settlement.reconcile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hongbao.settlement.DatabaseOptions;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.reconcile.ReconciliationResult.RoundFigures;
import io.hongbao.settlement.reconcile.ReconciliationResult.TierFigures;
import io.hongbao.settlement.reconcile.ReconciliationResult.Violation;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Reconciles the settlement tables: budgets, tier caps, user caps, duplicates, lineage (see {@link Check}).
 * Prints a table, optionally writes a JSON report, exits 0 when every check holds and 1 otherwise (also when
 * the database cannot be read); 2 on a usage error.
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
            err.println("reconcile: cannot read the settlement tables: " + e.getMessage());
            return 1;
        }
        printTable(result, out);
        if (report != null) {
            try {
                writeReport(result, report);
                out.println("Report written to " + report);
            } catch (IOException e) {
                err.println("reconcile: cannot write " + report + ": " + e.getMessage());
                return 1;
            }
        }
        out.flush();
        return result.passed() ? 0 : 1;
    }

    static void printTable(ReconciliationResult result, PrintWriter out) {
        out.println("Rounds");
        out.printf("%6s  %-20s %20s %12s %20s %20s  %s%n", "round", "name", "budget (yuan)", "payouts", "paid (yuan)",
                "remaining (yuan)", "status");
        for (RoundFigures r : result.rounds()) {
            out.printf("%6d  %-20s %20s %12s %20s %20s  %s%n", r.roundId(), clip(r.name(), 20), r.budgetYuan(),
                    Money.formatCount(r.payouts()), r.paidYuan(), r.remainingYuan(), r.overBudget() ? "OVER BUDGET" : "ok");
        }
        out.println();
        out.println("Prize tiers");
        out.printf("%6s %5s  %-20s %12s %12s %20s  %s%n", "round", "tier", "name", "cap", "paid", "paid (yuan)", "status");
        for (TierFigures t : result.tiers()) {
            out.printf("%6d %5d  %-20s %12s %12s %20s  %s%n", t.roundId(), t.tierId(), clip(t.name(), 20),
                    Money.formatCount(t.countCap()), Money.formatCount(t.payouts()), t.paidYuan(),
                    t.overCap() ? "OVER CAP" : "ok");
        }
        out.println();
        out.println("Checks");
        for (Check check : result.violationCounts().keySet()) {
            long n = result.violationCount(check);
            out.printf("  %-28s %s%n", check, n == 0 ? "ok" : "FAILED: " + Money.formatCount(n) + " violation(s)");
            for (Violation v : result.violations(check)) {
                boolean roundNamed = v.roundId() == null || v.subject().startsWith("round ");
                out.printf("      %s%s: %s%n", roundNamed ? "" : "round " + v.roundId() + ", ", v.subject(), v.detail());
            }
            if (n > result.violations(check).size()) {
                out.printf("      ... and %s more%n", Money.formatCount(n - result.violations(check).size()));
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
            n.put("name", r.name());
            n.put("budgetFen", r.budgetFen());
            n.put("budgetYuan", Money.yuan(r.budgetFen()).toPlainString());
            n.put("payouts", r.payouts());
            n.put("paidFen", r.paidFen());
            n.put("paidYuan", Money.yuan(r.paidFen()).toPlainString());
            n.put("remainingFen", r.remainingFen());
            n.put("remainingYuan", Money.yuan(r.remainingFen()).toPlainString());
            n.put("overBudget", r.overBudget());
        }
        ArrayNode tiers = root.putArray("tiers");
        for (TierFigures t : result.tiers()) {
            ObjectNode n = tiers.addObject();
            n.put("roundId", t.roundId());
            n.put("tierId", t.tierId());
            n.put("name", t.name());
            n.put("countCap", t.countCap());
            n.put("payouts", t.payouts());
            n.put("paidFen", t.paidFen());
            n.put("paidYuan", Money.yuan(t.paidFen()).toPlainString());
            n.put("overCap", t.overCap());
        }
        ObjectNode checks = root.putObject("checks");
        for (Check check : result.violationCounts().keySet()) {
            ObjectNode n = checks.putObject(check.name());
            n.put("rule", check.rule());
            n.put("violations", result.violationCount(check));
            ArrayNode listed = n.putArray("listed");
            for (Violation v : result.violations(check)) {
                ObjectNode l = listed.addObject();
                if (v.roundId() != null) {
                    l.put("roundId", v.roundId());
                }
                l.put("subject", v.subject());
                l.put("detail", v.detail());
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        json.writeValue(file.toFile(), root);
    }

    private static String clip(String s, int width) {
        if (s == null) {
            return "";
        }
        return s.length() <= width ? s : s.substring(0, width - 1) + "…";
    }
}
