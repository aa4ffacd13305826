package io.hongbao.ingest.profile;

/** A profile file that cannot be used; the message names the field and what is wrong with it. */
public class ProfileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProfileException(String message) {
        super(message);
    }

    public ProfileException(String message, Throwable cause) {
        super(message, cause);
    }

    static void require(boolean condition, String message) {
        if (!condition) {
            throw new ProfileException(message);
        }
    }
}
