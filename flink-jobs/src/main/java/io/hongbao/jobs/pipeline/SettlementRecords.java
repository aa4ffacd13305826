package io.hongbao.jobs.pipeline;

import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.counting.RejectTotal;
import io.hongbao.jobs.payout.LedgerLine;
import io.hongbao.jobs.payout.PayoutDecision;
import io.hongbao.jobs.payout.RoundRules;
import io.hongbao.jobs.payout.TierRule;
import io.hongbao.settlement.SettlementRecord;
import java.util.List;

/** The job's outputs as rows for the settlement tables. */
public final class SettlementRecords {
    private SettlementRecords() {}

    public static SettlementRecord of(PayoutDecision p) {
        return SettlementRecord.payout(p.roundId, p.tierId, p.userId, p.amountFen, p.eventIdHex(), p.topic,
                p.partition, p.offset, p.decidedAtMs);
    }

    public static SettlementRecord of(LedgerLine l) {
        return SettlementRecord.ledgerEntry(l.entryId, l.roundId, l.kind, l.amountFen, l.budgetAfterFen, l.detail,
                l.effectiveAtMs, l.source);
    }

    public static SettlementRecord of(RejectTotal t) {
        return SettlementRecord.rejectCount(t.reason, t.records);
    }

    public static SettlementRecord of(RoundRules r) {
        SettlementRecord.RoundConfig c = new SettlementRecord.RoundConfig();
        c.roundId = r.roundId;
        c.name = r.name == null ? "round-" + r.roundId : r.name;
        c.startsAtMs = r.startMs;
        c.endsAtMs = r.endMs;
        c.budgetFen = r.budgetFen;
        c.winPerMillion = r.winPerMillion;
        c.winsPerRound = r.winsPerRound;
        c.fenPerGala = r.fenPerGala;
        c.paused = r.paused;
        c.version = r.version;
        for (TierRule t : r.tiers) {
            c.tiers.add(SettlementRecord.Tier.of(t.tierId, t.name, t.minFen, t.maxFen, t.countCap, t.weight));
        }
        return SettlementRecord.roundConfig(c);
    }

    /**
     * The ledger line that records a round's config as a job starts with it. {@code jobStart} tells apart the
     * lines of two fresh starts against the same database; it is fixed in the job graph, so a restore from a
     * checkpoint never writes the line again.
     */
    /** The profile's rounds and tiers as reference data for {@link io.hongbao.settlement.RoundCatalog#register}. */
    public static List<SettlementRecord.RoundConfig> roundConfigs(GalaProfile gala) {
        return RoundRules.of(gala).stream().map(r -> of(r).roundConfig).toList();
    }

    public static LedgerLine configured(RoundRules r, String profileName, String jobStart) {
        return LedgerLine.of("configured-r" + r.roundId + "-" + jobStart, r.roundId, "CONFIGURED", r.budgetFen,
                r.budgetFen, "budget " + r.budgetFen + " fen, " + r.tiers.length + " tiers, win " + r.winPerMillion
                        + " per million, from profile " + profileName,
                r.startMs, "profile:" + profileName);
    }
}
