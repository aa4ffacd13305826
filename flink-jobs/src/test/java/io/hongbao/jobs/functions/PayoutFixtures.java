package io.hongbao.jobs.functions;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import io.hongbao.money.Tier;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.TestableKeyedStateBackend;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;

/** Rounds, shakes and settings for the payout operator tests. */
final class PayoutFixtures {
    static final long ROUND_START = 1_800_000_000_000L;
    static final long ROUND_END = ROUND_START + 60_000;
    static final long SMALL_MIN = 100;
    static final long SMALL_MAX = 888;
    static final long BIG = 8_888;

    private static long nextOffset;

    private PayoutFixtures() {}

    /** Round 1: one minute, every shake wins unless said otherwise, a small range tier and a big fixed one. */
    static Round round(long budgetFen, int winPerMillion, long smallCap, long bigCap, int winsPerRound,
            long fenPerGala) {
        return new Round(1, "test", ROUND_START, ROUND_END, budgetFen, winPerMillion, winsPerRound, fenPerGala, false, 0,
                List.of(new Tier(1, "small", SMALL_MIN, SMALL_MAX, smallCap, 9), new Tier(2, "big", BIG, BIG, bigCap, 1)));
    }

    /** The low half of the payout's event id (the fixtures' shakes number their events there). */
    static long eventIdLo(Payout p) {
        return java.util.HexFormat.fromHexDigitsToLong(p.eventId(), 16, 32);
    }

    static PayoutSettings settings(int shards, int reservePerMillion) {
        return new PayoutSettings(shards, reservePerMillion, 0xC0FFEEL, 0xBEEFL);
    }

    static ShakeRecord shake(long userId, long eventLo, long gatewayTs) {
        ShakeEvent e = new ShakeEvent(0xABCDL, eventLo, userId, userId * 7 + 1, 1, Channel.IOS, "CN-BJ",
                gatewayTs - 50, gatewayTs, ShakeEvent.NO_SEQUENCE);
        ShakeRecord r = new ShakeRecord();
        r.event = e;
        r.topic = "shakes";
        r.partition = 0;
        r.offset = nextOffset++;
        return r;
    }

    static RoundChange change(String id, RoundChange.Action action, long budgetFen, long issuedAtMs) {
        return RoundChange.of(id, 1, action, budgetFen, issuedAtMs, "control/0/" + id);
    }

    /**
     * A payout operator ({@code function}, keyed by {@code key}) restored from {@code snapshot}, as a restarted task
     * is: its keyed state, timers and operator state back, its watermark not (the control input's, which never
     * holds event time back, is sent again).
     */
    static <IN, OUT> KeyedBroadcastOperatorTestHarness<Integer, IN, RoundInForce, OUT> restored(
            KeyedBroadcastProcessFunction<Integer, IN, RoundInForce, OUT> function, KeySelector<IN, Integer> key,
            OperatorSubtaskState snapshot) throws Exception {
        var harness = new KeyedBroadcastOperatorTestHarness<>(new CoBroadcastWithKeyedOperator<>(function,
                List.of(ShardPayoutDecider.RULES)), key, Types.INT, 1, 1, 0);
        harness.setup();
        harness.initializeState(snapshot);
        harness.open();
        harness.processBroadcastWatermark(Long.MAX_VALUE);
        return harness;
    }

    /** Keyed state entries of every state of the harness's operator (one per key and state). */
    static int keyedStateEntries(KeyedBroadcastOperatorTestHarness<Integer, ?, ?, ?> harness) {
        return ((TestableKeyedStateBackend<?>) harness.getOperator().getKeyedStateBackend()).numKeyValueStateEntries();
    }
}
