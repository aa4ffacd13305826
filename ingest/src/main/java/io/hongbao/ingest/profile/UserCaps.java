package io.hongbao.ingest.profile;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;

/** What one user may win: packets per round, and fen over the whole gala. */
public record UserCaps(
        @JsonProperty(value = "wins_per_round", required = true) int winsPerRound,
        @JsonProperty(value = "fen_per_gala", required = true) long fenPerGala) implements Serializable {

    void validate(String where) {
        ProfileException.require(winsPerRound > 0, where + ": user_caps.wins_per_round must be positive");
        ProfileException.require(fenPerGala > 0, where + ": user_caps.fen_per_gala must be positive");
    }
}
