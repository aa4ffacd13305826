package io.hongbao.jobs.payout;

import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.profile.PrizeTier;
import io.hongbao.ingest.profile.RoundProfile;
import java.io.Serializable;
import java.util.Comparator;
import java.util.List;

/**
 * A round's rules as the payout job applies them: the profile's config, then live changes from the control
 * topic. A Flink POJO; kept in broadcast state so every parallel instance applies the same rules.
 *
 * <p>{@code shardBaseFen} is the budget the shards' shares are cut from. It only ever rises (a lowered
 * budget comes out of the sweeper's reserve), so no shard can have spent more than a share it still has.
 */
public class RoundRules implements Serializable {
    private static final long serialVersionUID = 1L;

    public int roundId;
    public String name;
    public long startMs;
    public long endMs;
    public long budgetFen;
    public long shardBaseFen;
    public int winPerMillion;
    /** By tier id. An array, not a List, so Flink's POJO serializer handles it without Kryo. */
    public TierRule[] tiers = new TierRule[0];
    public int winsPerRound;
    public long fenPerGala;
    public boolean paused;
    /** Changes applied so far; 0 for the profile's config. */
    public int version;

    public RoundRules() {}

    public static RoundRules of(GalaProfile gala, RoundProfile round) {
        RoundRules r = new RoundRules();
        r.roundId = round.id();
        r.name = round.name();
        r.startMs = gala.roundStartMs(round);
        r.endMs = gala.roundEndMs(round);
        r.budgetFen = round.budgetFen();
        r.shardBaseFen = round.budgetFen();
        r.winPerMillion = round.winPerMillion();
        r.tiers = round.tiers().stream()
                .sorted(Comparator.comparingInt(PrizeTier::id))
                .map(t -> new TierRule(t.id(), t.name(), t.minFen(), t.maxFen(), t.countCap(), t.weight()))
                .toArray(TierRule[]::new);
        r.winsPerRound = round.userCaps().winsPerRound();
        r.fenPerGala = round.userCaps().fenPerGala();
        return r;
    }

    public static List<RoundRules> of(GalaProfile gala) {
        return gala.rounds().stream().map(round -> of(gala, round)).toList();
    }

    public RoundRules copy() {
        RoundRules r = new RoundRules();
        r.roundId = roundId;
        r.name = name;
        r.startMs = startMs;
        r.endMs = endMs;
        r.budgetFen = budgetFen;
        r.shardBaseFen = shardBaseFen;
        r.winPerMillion = winPerMillion;
        r.tiers = tiers.clone();
        r.winsPerRound = winsPerRound;
        r.fenPerGala = fenPerGala;
        r.paused = paused;
        r.version = version;
        return r;
    }

    /** The smallest amount any tier pays. */
    public long smallestPrizeFen() {
        return java.util.Arrays.stream(tiers).mapToLong(t -> t.minFen).min().orElse(Long.MAX_VALUE);
    }

    public List<PayoutDraw.TierOption> options() {
        return java.util.Arrays.stream(tiers).map(TierRule::option).toList();
    }
}
