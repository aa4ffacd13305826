package io.hongbao.jobs.payout;

/**
 * What the round sweeper receives: an overflow candidate, a shard's report, or the notice that a round exists
 * (so every round gets its sweep and its SWEPT line, also one nobody won in: paused, or without traffic): a
 * configured round at the job's start, and a round's new rules whenever the change desk applies a change (so a
 * moved window, or an added round, has its sweep where its window now ends). A Flink POJO.
 */
public class SweepInput {
    public OverflowCandidate candidate;
    public ShardReport report;
    /** Set on a round's notice only. */
    public Integer configuredRound;
    /** Set on the notice of a change: the round's rules after it. */
    public RoundInForce rules;

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

    public static SweepInput configured(int roundId) {
        SweepInput in = new SweepInput();
        in.configuredRound = roundId;
        return in;
    }

    public static SweepInput changed(RoundInForce rules) {
        SweepInput in = configured(rules.round().roundId());
        in.rules = rules;
        return in;
    }

    public int roundId() {
        return candidate != null ? candidate.shake.event.roundId
                : report != null ? report.roundId : configuredRound;
    }
}
