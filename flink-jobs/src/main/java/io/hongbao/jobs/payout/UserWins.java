package io.hongbao.jobs.payout;

/**
 * What one user has won (keyed state, under the user's shard). Rounds do not overlap, so only the current
 * round's win count is kept. Fen handed to the sweeper count as won: a cap is never exceeded, at the price of
 * a user whose overflow win went unpaid being treated as if it had been. A Flink POJO.
 */
public class UserWins {
    public long fenWon;
    public int roundId;
    public int winsInRound;

    public UserWins() {}

    public int winsIn(int round) {
        return round == roundId ? winsInRound : 0;
    }

    public void record(int round, long amountFen) {
        if (round != roundId) {
            roundId = round;
            winsInRound = 0;
        }
        winsInRound++;
        fenWon += amountFen;
    }
}
