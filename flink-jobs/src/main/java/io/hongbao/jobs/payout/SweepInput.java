package io.hongbao.jobs.payout;

/** What the round sweeper receives: an overflow candidate or a shard's report. A Flink POJO. */
public class SweepInput {
    public OverflowCandidate candidate;
    public ShardReport report;

    public SweepInput() {}

    public static SweepInput of(OverflowCandidate candidate) {
        SweepInput in = new SweepInput();
        in.candidate = candidate;
        return in;
    }

    public static SweepInput of(ShardReport report) {
        SweepInput in = new SweepInput();
        in.report = report;
        return in;
    }

    public int roundId() {
        return candidate != null ? candidate.shake.event.roundId : report.roundId;
    }
}
