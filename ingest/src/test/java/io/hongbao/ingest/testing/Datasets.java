package io.hongbao.ingest.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository's {@code datasets/} folder from any module's working directory. */
public final class Datasets {
    private Datasets() {}

    public static Path file(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("datasets").resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("datasets/" + name + " not found above " + Path.of("").toAbsolutePath());
    }
}
