package io.hongbao.money;

import java.util.List;

/** One row of each kind, with values that tell the fields apart. */
final class Rows {
    private Rows() {}

    static final Payout PAYOUT = new Payout(3, 2, 42L, 888L, "0123456789abcdef0123456789abcdef", "hongbao.shakes", 3,
            1007L, 1_771_243_200_123L);
    static final LedgerEntry LEDGER = new LedgerEntry("change-raise-7", 1, "BUDGET_RAISED", 5_000, 105_000,
            "budget raised to 105000 fen (sponsor)", 1_771_243_200_000L, "hongbao.round-control/0/7");
    static final LedgerEntry LEDGER_NULLS = new LedgerEntry("swept-r1", 1, "SWEPT", 0, 0, null, 0, "sweeper");
    static final RejectCount REJECTS = new RejectCount("OUT_OF_WINDOW", 17);
    static final Round ROUND = new Round(1, "round 1 \u7ea2\u5305", 1_771_243_200_000L, 1_771_243_800_000L, 100_000,
            100_000, 2, 20_000, true, 3, List.of(new Tier(1, "small", 100, 888, 50, 9),
                    new Tier(2, "big", 8_888, 8_888, 1, 1)));
    static final Round NO_TIERS = new Round(2, "round 2", 10, 20, 0, 0, 1, 1, false, 0, List.of());
}
