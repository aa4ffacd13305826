package io.hongbao.ingest.event;

/** The app surface a shake came from. */
public enum Channel {
    IOS,
    ANDROID,
    H5,
    TV,
    MINI_PROGRAM;

    /** Made once: the counting path asks for it per shake. */
    private final String key = name().toLowerCase(java.util.Locale.ROOT);

    /** Profile and report spelling: lower case, as in {@code mini_program}. */
    public String key() {
        return key;
    }

    public static Channel ofKey(String key) {
        return valueOf(key.toUpperCase(java.util.Locale.ROOT));
    }
}
