package io.hongbao.dashboards;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A program the tests run, from the PATH or else from its Debian package, fetched once with {@code apt-get
 * download} and unpacked with {@code dpkg-deb -x} into {@code ~/.cache/hongbao/debian/<package>} (as
 * {@code bin/local-stack} fetches Kafka's jars): nothing is installed, no root needed, so {@code ./mvnw -B verify}
 * passes on a fresh machine. A machine without package lists gets them into a private apt state under the cache.
 */
final class DebianTool {
    private static final Path CACHE = Path.of(System.getProperty("hongbao.tool-cache",
            System.getProperty("user.home") + "/.cache/hongbao")).resolve("debian");

    private DebianTool() {}

    /** {@code name} on the PATH, else {@code /usr/bin/<name>} of {@code debianPackage}, fetched if not cached. */
    static synchronized Path executable(String name, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (!dir.isEmpty() && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        Path root = CACHE.resolve(debianPackage).resolve("root");
        Path fetched = root.resolve("usr/bin").resolve(name);
        if (!Files.isExecutable(fetched)) {
            try {
                fetch(debianPackage, root);
            } catch (IOException | InterruptedException e) {
                throw new AssertionError(name + " is not on the PATH and the Debian package " + debianPackage
                        + " could not be fetched: " + e.getMessage(), e);
            }
        }
        if (!Files.isExecutable(fetched)) {
            throw new AssertionError("the Debian package " + debianPackage + " has no /usr/bin/" + name);
        }
        return fetched;
    }

    private static void fetch(String debianPackage, Path root) throws IOException, InterruptedException {
        Files.createDirectories(root.getParent());
        Path work = Files.createTempDirectory(root.getParent(), "fetch-");
        try {
            if (run(work, "apt-get", "download", debianPackage) != 0) {
                // No package lists here (or stale ones): read them into a private apt state, as any user.
                Path apt = root.getParent().resolve("apt");
                Files.createDirectories(apt.resolve("lists/partial"));
                Files.createDirectories(apt.resolve("cache/archives/partial"));
                List<String> options = List.of("-o", "Dir::State::Lists=" + apt.resolve("lists"),
                        "-o", "Dir::Cache=" + apt.resolve("cache"), "-o", "Debug::NoLocking=1");
                require(run(work, concat(List.of("apt-get", "-q"), options, List.of("update"))), "apt-get update");
                require(run(work, concat(List.of("apt-get"), options, List.of("download", debianPackage))),
                        "apt-get download " + debianPackage);
            }
            Path deb;
            try (Stream<Path> files = Files.list(work)) {
                deb = files.filter(f -> f.getFileName().toString().endsWith(".deb")).findFirst()
                        .orElseThrow(() -> new IOException("apt-get download left no .deb in " + work));
            }
            Path unpacked = work.resolve("root");
            require(run(work, "dpkg-deb", "-x", deb.toString(), unpacked.toString()), "dpkg-deb -x " + deb);
            try {
                Files.move(unpacked, root, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException anotherForkWasFaster) {
                if (!Files.isDirectory(root)) {
                    throw anotherForkWasFaster;
                }
            }
        } finally {
            deleteTree(work);
        }
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> part : parts) {
            all.addAll(part);
        }
        return all;
    }

    private static int run(Path dir, String... command) throws IOException, InterruptedException {
        return run(dir, List.of(command));
    }

    private static int run(Path dir, List<String> command) throws IOException, InterruptedException {
        Path log = dir.resolve("command.log");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish in 10 minutes");
        }
        if (p.exitValue() != 0) {
            System.err.println(String.join(" ", command) + " exited " + p.exitValue() + ":\n"
                    + Files.readString(log, StandardCharsets.UTF_8));
        }
        return p.exitValue();
    }

    private static void require(int exit, String what) throws IOException {
        if (exit != 0) {
            throw new IOException(what + " exited " + exit);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
