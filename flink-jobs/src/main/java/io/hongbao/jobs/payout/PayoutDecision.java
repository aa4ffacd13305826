package io.hongbao.jobs.payout;

import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;

/**
 * A red packet the job decided to pay: who, which round and tier, how many fen, and the Kafka record that
 * won it. {@link #payoutId()} is derived from round and event id, so a replay can never make a second payout
 * for the same shake. {@code decidedAtMs} is the winning shake's event time, not a wall clock, for the same
 * reason. A Flink POJO.
 */
public class PayoutDecision {
    public int roundId;
    public int tierId;
    public long userId;
    public long amountFen;
    public long eventIdHi;
    public long eventIdLo;
    public String topic;
    public int partition;
    public long offset;
    public long decidedAtMs;
    /** "shard-&lt;n&gt;" or "sweeper": which part of the budget paid it. */
    public String paidFrom;

    public PayoutDecision() {}

    public static PayoutDecision of(ShakeRecord won, int tierId, long amountFen, String paidFrom) {
        ShakeEvent e = won.event;
        PayoutDecision p = new PayoutDecision();
        p.roundId = e.roundId;
        p.tierId = tierId;
        p.userId = e.userId;
        p.amountFen = amountFen;
        p.eventIdHi = e.eventIdHi;
        p.eventIdLo = e.eventIdLo;
        p.topic = won.topic;
        p.partition = won.partition;
        p.offset = won.offset;
        p.decidedAtMs = e.gatewayTsMs;
        p.paidFrom = paidFrom;
        return p;
    }

    public String eventIdHex() {
        return ShakeEvent.eventIdHex(eventIdHi, eventIdLo);
    }

    /** {@code r<round>-<32 hex event id>}: one shake, one payout at most. */
    public String payoutId() {
        return "r" + roundId + "-" + eventIdHex();
    }

    @Override
    public String toString() {
        return payoutId() + " user " + userId + " tier " + tierId + " " + amountFen + " fen from " + paidFrom
                + " (" + topic + "/" + partition + "/" + offset + ")";
    }
}
