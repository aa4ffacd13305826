package io.hongbao.replication;

import java.io.IOException;
import java.net.URI;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystemFactory;
import org.apache.flink.core.fs.Path;

/**
 * A checkpoint storage root in one datacenter: a URI ({@code file:///...}, {@code s3://bucket/prefix}) and the
 * Flink {@link FileSystem} that reaches it.
 *
 * <p>Both datacenters name their storage with the same URI in production (same bucket name, each datacenter's
 * Flink configured with its own {@code s3.endpoint}), so one process that reads A and writes B needs two
 * differently configured file systems for one scheme. Flink's {@link FileSystem#get} caches one per scheme and
 * authority for the whole JVM, so a root with its own configuration gets a file system from the scheme's
 * {@link FileSystemFactory} configured with that configuration alone.
 */
public final class StorageRoot {

    private final URI uri;
    private final FileSystem fs;

    private StorageRoot(URI uri, FileSystem fs) {
        this.uri = uri;
        this.fs = fs;
    }

    /** The root at {@code uri}, through Flink's shared file system for its scheme. */
    public static StorageRoot of(String uri) throws IOException {
        URI parsed = normalize(uri);
        return new StorageRoot(parsed, FileSystem.get(parsed));
    }

    /**
     * A root that is only a name: the logical checkpoint root ({@code dual:///checkpoints}) that metadata paths are
     * relativized against, never opened here.
     */
    public static StorageRoot named(String uri) {
        return new StorageRoot(normalize(uri), null);
    }

    /** The root at {@code uri}, through a file system of its own configured with {@code config}. */
    public static StorageRoot of(String uri, Configuration config) throws IOException {
        URI parsed = normalize(uri);
        Optional<FileSystemFactory> factory = ServiceLoader.load(FileSystemFactory.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(f -> f.getScheme().equals(parsed.getScheme()))
                .findFirst();
        if (factory.isEmpty()) {
            if ("file".equals(parsed.getScheme())) {
                return new StorageRoot(parsed, FileSystem.getLocalFileSystem());
            }
            throw new IOException("no Flink FileSystemFactory for scheme '" + parsed.getScheme()
                    + "' on the classpath (put flink-s3-fs-presto or flink-s3-fs-hadoop next to this jar)");
        }
        factory.get().configure(config);
        return new StorageRoot(parsed, factory.get().create(parsed));
    }

    private static URI normalize(String uri) {
        URI parsed = new Path(uri.endsWith("/") && uri.length() > 1 ? uri.substring(0, uri.length() - 1) : uri).toUri();
        if (parsed.getScheme() == null) {
            parsed = new Path("file://" + parsed.getPath()).toUri();
        }
        return parsed;
    }

    public FileSystem fs() {
        if (fs == null) {
            throw new IllegalStateException(uri + " is a logical root, not opened");
        }
        return fs;
    }

    public Path path() {
        return new Path(uri);
    }

    public URI uri() {
        return uri;
    }

    /** {@code relative} below this root. */
    public Path resolve(String relative) {
        return new Path(uri.toString() + "/" + relative);
    }

    /**
     * The path of {@code file} relative to this root, if it lies below it. Compared on authority and path only,
     * so {@code file:/x} and {@code file:///x} agree.
     */
    public Optional<String> relativize(Path file) {
        URI f = file.toUri();
        if (!Objects.equals(emptyToNull(f.getAuthority()), emptyToNull(uri.getAuthority()))) {
            return Optional.empty();
        }
        String root = uri.getPath().endsWith("/") ? uri.getPath() : uri.getPath() + "/";
        String path = f.getPath();
        return path.startsWith(root) && path.length() > root.length()
                ? Optional.of(path.substring(root.length()))
                : Optional.empty();
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    @Override
    public String toString() {
        return uri.toString();
    }
}
