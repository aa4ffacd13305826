package io.hongbao.settlement.sink;

import java.io.IOException;

/** The PostgreSQL server cannot prepare transactions ({@code max_prepared_transactions = 0}). */
public final class TwoPhaseCommitUnavailableException extends IOException {
    private static final long serialVersionUID = 1L;

    public TwoPhaseCommitUnavailableException(String message) {
        super(message);
    }
}
