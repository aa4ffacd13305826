package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

/**
 * {@link ShardPayoutDecider} in a test harness wired as the pipeline wires it: shakes keyed by shard on the first
 * input, on the second the rules a {@link RoundChangeDesk} (its own harness, snapshotted and restored with the
 * decider) makes of the round changes sent; the second input is idle, so event time is the shakes'.
 */
final class DeciderHarness extends KeyedTwoInputStreamOperatorTestHarness<Integer, ShakeRecord, RoundInForce, Payout> {
    static final int MAX_PARALLELISM = 128;
    /** The desk's snapshot taken with each decider snapshot, so a restore brings back both. */
    private static final Map<OperatorSubtaskState, OperatorSubtaskState> DESK_SNAPSHOTS =
            Collections.synchronizedMap(new WeakHashMap<>());
    private final ShardPayoutDecider decider;
    private ChangeDeskHarness desk;

    private DeciderHarness(ShardPayoutDecider decider, PayoutSettings settings, int parallelism, int subtask)
            throws Exception {
        super(decider, (ShakeRecord r) -> settings.shardOf(r.event.userId), (RoundInForce c) -> 0, Types.INT,
                MAX_PARALLELISM, parallelism, subtask);
        this.decider = decider;
    }

    /** A fresh decider of {@code rules}, opened. */
    static DeciderHarness open(Round rules, PayoutSettings settings) throws Exception {
        return open(List.of(rules), settings, null);
    }

    /** A decider restored from {@code snapshot} (null: fresh), opened, as a restarted task is: its watermark not back. */
    static DeciderHarness open(List<Round> rules, PayoutSettings settings, OperatorSubtaskState snapshot)
            throws Exception {
        return open(rules, settings, snapshot, 1, 0);
    }

    /** Subtask {@code subtask} of {@code parallelism}; {@code snapshot} already repartitioned for it. */
    static DeciderHarness open(List<Round> rules, PayoutSettings settings, OperatorSubtaskState snapshot,
            int parallelism, int subtask) throws Exception {
        PayoutSettings shards = settings; // the key selector is serialized: capture no test object
        var harness = new DeciderHarness(new ShardPayoutDecider(rules, shards), shards, parallelism, subtask);
        harness.setup();
        if (snapshot != null) {
            harness.initializeState(snapshot);
        }
        harness.open();
        harness.processWatermarkStatus2(WatermarkStatus.IDLE);
        harness.desk = ChangeDeskHarness.open(rules, shards, Long.MAX_VALUE,
                snapshot == null ? null : DESK_SNAPSHOTS.get(snapshot));
        return harness;
    }

    /** As a task checkpoints: the operator writes what it holds on the heap before the barrier, then snapshots. */
    @Override
    public OperatorSubtaskState snapshot(long checkpointId, long timestamp) throws Exception {
        prepareSnapshotPreBarrier(checkpointId);
        OperatorSubtaskState snapshot = super.snapshot(checkpointId, timestamp);
        DESK_SNAPSHOTS.put(snapshot, desk.snapshot(checkpointId, timestamp));
        return snapshot;
    }

    void processElement(ShakeRecord shake, long timestamp) throws Exception {
        processElement1(shake, timestamp);
    }

    /** A round change, decided by the desk; what it applies reaches the decider. */
    void processBroadcastElement(RoundChange change, long timestamp) throws Exception {
        for (RoundInForce rules : desk.decide(change)) {
            processElement2(rules, timestamp);
        }
    }

    /** The desk's ledger lines of the changes sent. */
    List<LedgerEntry> changeLedger() {
        return desk.ledger();
    }

    /** The round configs the desk applied. */
    List<Round> appliedRules() {
        return desk.appliedRules();
    }

    @Override
    public void close() throws Exception {
        super.close();
        desk.close();
    }

    void processWatermark(long watermark) throws Exception {
        processWatermark1(new Watermark(watermark));
    }

    <K, V> BroadcastState<K, V> getBroadcastState(MapStateDescriptor<K, V> descriptor) throws Exception {
        return getOperator().getOperatorStateBackend().getBroadcastState(descriptor);
    }

    int winnersWaiting() {
        return decider.winnersWaiting();
    }

    /** The keys (shards) that hold an entry of the keyed state {@code name}. */
    long shardsIn(String name) {
        KeyedStateBackend<Object> backend = getOperator().getKeyedStateBackend();
        try (var keys = backend.getKeys(name, VoidNamespace.INSTANCE)) {
            return keys.count();
        }
    }
}
