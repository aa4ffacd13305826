package io.hongbao.settlement;

import io.hongbao.money.Round;
import io.hongbao.money.Tier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Registers a gala's rounds and prize tiers as reference data before the payout job writes: every payout
 * row has foreign keys to its round and tier, and a round's config otherwise reaches the database only
 * after the payouts of the same checkpoint (see the README, "Rounds and tiers are reference data").
 *
 * <p>Missing rows are inserted; existing rows are left as they are (the job moves budget, pause state and, with
 * its RESCHEDULED lines, the window forward on its own) but must agree on what never changes during a gala: the
 * round's window as registered (before any live move), win rate and per-user caps, and each tier's range, cap and
 * weight. A disagreement (say, a profile edited between two
 * starts against the same database) fails with every difference listed, before anything is paid under rules
 * the settlement tables do not show.
 *
 * <p>With the rounds goes the campaign: its name and total budget, which the rounds' budgets, raises included, never
 * exceed. The database (V12) takes all of it only through its registration functions: a round only before the
 * database's first payout, a tier only with its round, the campaign once; nothing registered is ever changed.
 */
public final class RoundCatalog {
    private static final String INSERT_CAMPAIGN = "SELECT settlement_register_campaign(?, ?)";
    private static final String INSERT_ROUND = "SELECT settlement_register_round(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_TIER = "SELECT settlement_register_tier(?, ?, ?, ?, ?, ?, ?)";
    private static final String SELECT_CAMPAIGN = "SELECT name, budget_fen FROM campaign";
    // The window the round was registered with (V14's round_schedule: the window before its first move), so a job
    // restarting with its profile after a live reschedule (RESCHEDULED lines) still matches its reference data.
    private static final String SELECT_ROUND = "SELECT s.registered_starts_at, s.registered_ends_at, r.win_per_million, "
            + "r.wins_per_round, r.fen_per_gala FROM round r JOIN round_schedule s ON s.round_id = r.round_id "
            + "WHERE r.round_id = ? LIMIT 1";
    private static final String SELECT_TIER = "SELECT min_fen, max_fen, count_cap, weight FROM prize_tier "
            + "WHERE round_id = ? AND tier_id = ?";

    private RoundCatalog() {}

    /** Thrown when the database already holds a round or tier that differs from the one registered. */
    public static final class ReferenceDataMismatchException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        ReferenceDataMismatchException(String message) {
            super(message);
        }
    }

    /** A campaign: its name and total budget in fen, which the sum of its rounds' budgets never exceeds. */
    public record Campaign(String name, long budgetFen) {
        /** A campaign whose total is exactly the sum of these rounds' budgets: no room for raises. */
        public static Campaign exactly(Collection<Round> rounds) {
            return new Campaign("campaign", rounds.stream().mapToLong(r -> r.budgetFen()).reduce(0, Math::addExact));
        }
    }

    /** {@link #register(SettlementDatabase, Campaign, Collection)} with {@link Campaign#exactly} these rounds. */
    public static int register(SettlementDatabase db, Collection<Round> rounds) throws SQLException {
        return register(db, Campaign.exactly(rounds), rounds);
    }

    /** Inserts the campaign and the missing rounds and tiers in one transaction; returns how many rows it inserted. */
    public static int register(SettlementDatabase db, Campaign campaign, Collection<Round> rounds)
            throws SQLException {
        try (Connection c = db.connect("hongbao-round-catalog")) {
            c.setAutoCommit(false);
            try {
                int inserted = insertCampaign(c, campaign);
                inserted += insertMissing(c, rounds);
                List<String> differences = new ArrayList<>(differences(c, campaign));
                for (Round r : rounds) {
                    differences.addAll(differences(c, r));
                }
                if (!differences.isEmpty()) {
                    c.rollback();
                    throw new ReferenceDataMismatchException("the settlement database at " + db.redactedUrl()
                            + " already holds rounds that differ from the ones registered (reference data never "
                            + "changes during a gala; use a new database for new rules): "
                            + String.join("; ", differences));
                }
                c.commit();
                return inserted;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private static int insertCampaign(Connection c, Campaign campaign) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT_CAMPAIGN)) {
            ps.setString(1, campaign.name());
            ps.setLong(2, campaign.budgetFen());
            return inserted(ps);
        }
    }

    private static int insertMissing(Connection c, Collection<Round> rounds) throws SQLException {
        int inserted = 0;
        try (PreparedStatement round = c.prepareStatement(INSERT_ROUND);
                PreparedStatement tier = c.prepareStatement(INSERT_TIER)) {
            for (Round r : rounds) {
                bindRound(round, r);
                inserted += inserted(round);
                for (Tier t : r.tiers()) {
                    bindTier(tier, r.roundId(), t);
                    inserted += inserted(tier);
                }
            }
        }
        return inserted;
    }

    /** Runs a registration function; 1 when it inserted its row. */
    private static int inserted(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getBoolean(1) ? 1 : 0;
        }
    }

    private static List<String> differences(Connection c, Campaign campaign) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(SELECT_CAMPAIGN); ResultSet rs = ps.executeQuery()) {
            rs.next();
            compare(out, "campaign name", rs.getString(1), campaign.name());
            compare(out, "campaign budget_fen", rs.getLong(2), campaign.budgetFen());
        }
        return out;
    }

    /**
     * Binds a round to parameters 1 to 10 in the order of the {@code round} table's columns (and of
     * {@code settlement_register_round}): round_id, name,
     * starts_at, ends_at, budget_fen, win_per_million, wins_per_round, fen_per_gala, paused, config_version (also the
     * first ten of {@code settlement_add_round}, the writer's).
     */
    public static void bindRound(PreparedStatement ps, Round r) throws SQLException {
        ps.setInt(1, r.roundId());
        ps.setString(2, r.name());
        ps.setObject(3, timestamp(r.startsAtMs()));
        ps.setObject(4, timestamp(r.endsAtMs()));
        ps.setLong(5, r.budgetFen());
        ps.setInt(6, r.winPerMillion());
        ps.setInt(7, r.winsPerRound());
        ps.setLong(8, r.fenPerGala());
        ps.setBoolean(9, r.paused());
        ps.setInt(10, r.version());
    }

    /** Binds a tier to parameters 1 to 7: round_id, tier_id, name, min_fen, max_fen, count_cap, weight. */
    private static void bindTier(PreparedStatement ps, int roundId, Tier t) throws SQLException {
        ps.setInt(1, roundId);
        ps.setInt(2, t.tierId());
        ps.setString(3, t.name());
        ps.setLong(4, t.minFen());
        ps.setLong(5, t.maxFen());
        ps.setLong(6, t.countCap());
        ps.setInt(7, t.weight());
    }

    private static List<String> differences(Connection c, Round r) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(SELECT_ROUND)) {
            ps.setInt(1, r.roundId());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                compare(out, "round " + r.roundId() + " starts_at", rs.getObject(1, OffsetDateTime.class).toInstant(),
                        Instant.ofEpochMilli(r.startsAtMs()));
                compare(out, "round " + r.roundId() + " ends_at", rs.getObject(2, OffsetDateTime.class).toInstant(),
                        Instant.ofEpochMilli(r.endsAtMs()));
                compare(out, "round " + r.roundId() + " win_per_million", rs.getLong(3), r.winPerMillion());
                compare(out, "round " + r.roundId() + " wins_per_round", rs.getLong(4), r.winsPerRound());
                compare(out, "round " + r.roundId() + " fen_per_gala", rs.getLong(5), r.fenPerGala());
            }
        }
        try (PreparedStatement ps = c.prepareStatement(SELECT_TIER)) {
            for (Tier t : r.tiers()) {
                ps.setInt(1, r.roundId());
                ps.setInt(2, t.tierId());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    String tier = "round " + r.roundId() + " tier " + t.tierId();
                    compare(out, tier + " min_fen", rs.getLong(1), t.minFen());
                    compare(out, tier + " max_fen", rs.getLong(2), t.maxFen());
                    compare(out, tier + " count_cap", rs.getLong(3), t.countCap());
                    compare(out, tier + " weight", rs.getLong(4), t.weight());
                }
            }
        }
        return out;
    }

    private static void compare(List<String> out, String what, long inDatabase, long registered) {
        compare(out, what, (Object) inDatabase, (Object) registered);
    }

    private static void compare(List<String> out, String what, Object inDatabase, Object registered) {
        if (!inDatabase.equals(registered)) {
            out.add(what + " is " + inDatabase + " in the database, " + registered + " registered");
        }
    }

    private static OffsetDateTime timestamp(long epochMs) {
        return OffsetDateTime.ofInstant(Instant.ofEpochMilli(epochMs), ZoneOffset.UTC);
    }
}
