package io.hongbao.ingest.event;

/** The app surface a shake came from. */
public enum Channel {
    IOS,
    ANDROID,
    H5,
    TV,
    MINI_PROGRAM;

    /** Profile and report spelling: lower case, as in {@code mini_program}. */
    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Channel ofKey(String key) {
        return valueOf(key.toUpperCase(java.util.Locale.ROOT));
    }
}
