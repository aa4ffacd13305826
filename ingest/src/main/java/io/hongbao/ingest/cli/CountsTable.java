package io.hongbao.ingest.cli;

import io.hongbao.ingest.count.IntakeCounts;
import io.hongbao.ingest.count.IntakeCounts.RoundCounts;
import java.io.PrintWriter;
import java.util.Map;

/** The counts as a table a person reads at a terminal. */
final class CountsTable {
    private CountsTable() {}

    static void print(PrintWriter out, String topic, IntakeCounts counts) {
        out.printf("Shake topic %s: %,d records%n", topic, counts.records());
        out.printf("  %-28s %,14d%n", "distinct valid shakes", counts.distinctValidEvents());
        out.printf("  %-28s %,14d%n", "duplicates (retries)", counts.duplicates());
        out.printf("  %-28s %,14d%n", "rejected", counts.rejectedTotal());
        counts.rejected().forEach((reason, n) -> out.printf("    %-26s %,14d%n", reason, n));
        out.println();
        out.printf("  %-6s %14s %8s  %s%n", "round", "shakes", "minutes", "by channel");
        for (Map.Entry<Integer, RoundCounts> round : counts.rounds().entrySet()) {
            RoundCounts r = round.getValue();
            out.printf("  %-6d %,14d %8d  %s%n", round.getKey(), r.distinctEvents(), r.byMinute().size(),
                    r.byChannel());
        }
        out.println();
        out.printf("  %-6s %s%n", "round", "by region");
        counts.rounds().forEach((id, r) -> out.printf("  %-6d %s%n", id, r.byRegion()));
    }
}
