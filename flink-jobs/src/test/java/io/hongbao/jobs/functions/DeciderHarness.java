package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import java.util.List;
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
 * input, round changes broadcast on the second, which is idle (the control stream never holds event time back).
 */
final class DeciderHarness extends KeyedTwoInputStreamOperatorTestHarness<Integer, ShakeRecord, RoundChange, Payout> {
    static final int MAX_PARALLELISM = 128;
    private final ShardPayoutDecider decider;

    private DeciderHarness(ShardPayoutDecider decider, PayoutSettings settings, int parallelism, int subtask)
            throws Exception {
        super(decider, (ShakeRecord r) -> settings.shardOf(r.event.userId), (RoundChange c) -> 0, Types.INT,
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
        return harness;
    }

    /** As a task checkpoints: the operator writes what it holds on the heap before the barrier, then snapshots. */
    @Override
    public OperatorSubtaskState snapshot(long checkpointId, long timestamp) throws Exception {
        prepareSnapshotPreBarrier(checkpointId);
        return super.snapshot(checkpointId, timestamp);
    }

    void processElement(ShakeRecord shake, long timestamp) throws Exception {
        processElement1(shake, timestamp);
    }

    void processBroadcastElement(RoundChange change, long timestamp) throws Exception {
        processElement2(change, timestamp);
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
