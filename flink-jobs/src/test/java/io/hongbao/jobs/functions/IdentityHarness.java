package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Round;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

/**
 * {@link EventIdentity} in a test harness keyed as in the pipeline, on RocksDB: shakes on the first input, the
 * change desk's rules and promise on the second. Opened with the promise given (by default at the end of time:
 * every shake judged as it arrives, as when no change is ever pending).
 */
final class IdentityHarness extends KeyedTwoInputStreamOperatorTestHarness<Integer, ShakeRecord, RoundInForce, ShakeRecord> {
    static final int MAX_PARALLELISM = 128;
    private final EventIdentity identity;

    private IdentityHarness(EventIdentity identity, int parallelism, int subtask) throws Exception {
        super(identity, (ShakeRecord r) -> PayoutSettings.identityShardOf(r.event.eventIdHi, r.event.eventIdLo),
                (RoundInForce r) -> 0, Types.INT, MAX_PARALLELISM, parallelism, subtask);
        this.identity = identity;
    }

    static IdentityHarness open(List<Round> rounds, PayoutSettings settings, OperatorSubtaskState restore,
            int parallelism, int subtask) throws Exception {
        return open(rounds, settings, restore, parallelism, subtask, Long.MAX_VALUE);
    }

    /** {@code promise}: the desk's promise sent at once; {@code Long.MIN_VALUE}: none yet. */
    static IdentityHarness open(List<Round> rounds, PayoutSettings settings, OperatorSubtaskState restore,
            int parallelism, int subtask, long promise) throws Exception {
        var h = new IdentityHarness(new EventIdentity(rounds, settings, Duration.ofSeconds(1)), parallelism, subtask);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        if (promise != Long.MIN_VALUE) {
            h.promise(promise);
        }
        return h;
    }

    void processElement(ShakeRecord shake, long timestamp) throws Exception {
        processElement1(shake, timestamp);
    }

    /** The shakes' watermark. */
    void processWatermark(long watermark) throws Exception {
        processWatermark1(new Watermark(watermark));
    }

    /** The desk's promise (its output's watermark). */
    void promise(long promise) throws Exception {
        processWatermark2(new Watermark(promise));
    }

    /** Rules the desk applied. */
    void rules(RoundInForce rules) throws Exception {
        processElement2(rules, 0);
    }

    long shakesAwaiting() {
        return identity.shakesAwaiting();
    }
}
