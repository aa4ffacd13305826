package io.hongbao.jobs.payout;

import java.io.Serializable;

/** A prize tier as the job applies it. A Flink POJO. */
public class TierRule implements Serializable {
    private static final long serialVersionUID = 1L;

    public int tierId;
    public String name;
    public long minFen;
    public long maxFen;
    public long countCap;
    public int weight;

    public TierRule() {}

    public TierRule(int tierId, String name, long minFen, long maxFen, long countCap, int weight) {
        this.tierId = tierId;
        this.name = name;
        this.minFen = minFen;
        this.maxFen = maxFen;
        this.countCap = countCap;
        this.weight = weight;
    }

    public PayoutDraw.TierOption option() {
        return new PayoutDraw.TierOption(tierId, minFen, maxFen, weight);
    }
}
