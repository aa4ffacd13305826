package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Round;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;

/** The {@link RoundChangeDesk} in a test harness: changes in, the rules it applies, its ledger and watermarks out. */
final class ChangeDeskHarness extends TwoInputStreamOperatorTestHarness<RoundChange, ShakeRecord, RoundInForce> {
    static final Duration LEAD = Duration.ofSeconds(30);

    private ChangeDeskHarness(RoundChangeDesk<ShakeRecord> desk) throws Exception {
        super(desk);
    }

    /** A fresh desk (or one restored from {@code snapshot}), opened; no window ends after {@code latestEndMs}. */
    static ChangeDeskHarness open(List<Round> rules, PayoutSettings settings, long latestEndMs,
            OperatorSubtaskState snapshot) throws Exception {
        var harness = new ChangeDeskHarness(
                new RoundChangeDesk<>(rules, settings.reservePerMillion(), LEAD, latestEndMs));
        harness.setup();
        if (snapshot != null) {
            harness.initializeState(snapshot);
        }
        harness.open();
        return harness;
    }

    /** Decides {@code change}; returns the rules it applied (none when refused or repeated). */
    List<RoundInForce> decide(RoundChange change) throws Exception {
        int before = extractOutputValues().size();
        processElement1(change, change.issuedAtMs);
        List<RoundInForce> all = extractOutputValues();
        return new ArrayList<>(all.subList(before, all.size()));
    }

    /** The shakes' watermark reaches the desk. */
    void shakesAt(long watermark) throws Exception {
        processWatermark2(new Watermark(watermark));
    }

    List<LedgerEntry> ledger() {
        return ShardPayoutDeciderTest.values(getSideOutput(ShardPayoutDecider.LEDGER));
    }

    List<Round> appliedRules() {
        return ShardPayoutDeciderTest.values(getSideOutput(RoundChangeDesk.APPLIED_RULES));
    }

    /** The promises the desk sent, in order. */
    List<Long> promises() {
        List<Long> out = new ArrayList<>();
        for (Object o : getOutput()) {
            if (o instanceof Watermark w) {
                out.add(w.getTimestamp());
            }
        }
        return out;
    }
}
