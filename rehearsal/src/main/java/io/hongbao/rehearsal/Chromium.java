package io.hongbao.rehearsal;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Headless Chromium for the report's screenshots and its render test: {@code chromium} from the PATH, else
 * Debian's {@code chromium} fetched once, as dashboards' DebianTool fetches prometheus: {@code apt-get download}
 * of the package and of every dependency this machine lacks (what {@code apt-get install -s} would install),
 * each unpacked with {@code dpkg-deb -x} into {@code ~/.cache/hongbao/debian/chromium/root}, and run from there
 * with its libraries on {@code LD_LIBRARY_PATH}. Nothing is installed, no root needed; a machine without package
 * lists gets them into a private apt state under the cache.
 */
final class Chromium {
    private static final Path CACHE = Path.of(System.getProperty("hongbao.tool-cache",
            System.getProperty("user.home") + "/.cache/hongbao")).resolve("debian");

    private final Path executable;
    private final String libraryPath;

    private Chromium(Path executable, String libraryPath) {
        this.executable = executable;
        this.libraryPath = libraryPath;
    }

    static synchronized Chromium find() throws IOException, InterruptedException {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path candidate = Path.of(dir, name);
                if (!dir.isEmpty() && Files.isExecutable(candidate)) {
                    return new Chromium(candidate, null);
                }
            }
        }
        Path root = CACHE.resolve("chromium").resolve("root");
        Path binary = root.resolve("usr/lib/chromium/chromium");
        if (!Files.isExecutable(binary)) {
            fetch(root);
        }
        Set<String> libraryDirs = new LinkedHashSet<>();
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(f -> f.getFileName().toString().contains(".so")).forEach(f -> libraryDirs.add(f.getParent().toString()));
        }
        return new Chromium(binary, String.join(File.pathSeparator, libraryDirs));
    }

    /** The DOM after the page's scripts ran ({@code --dump-dom}). */
    String dumpDom(Path html) throws IOException, InterruptedException {
        Path out = Files.createTempFile("chromium-dom-", ".html");
        try {
            run(out, "--dump-dom", html.toUri().toString());
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** A PNG of the page at the given window size. */
    void screenshot(Path html, Path png, int width, int height) throws IOException, InterruptedException {
        run(null, "--hide-scrollbars", "--window-size=" + width + "," + height, "--screenshot=" + png.toAbsolutePath(),
                html.toUri().toString());
        if (!Files.isRegularFile(png) || Files.size(png) == 0) {
            throw new IOException("chromium wrote no screenshot " + png);
        }
    }

    private void run(Path stdout, String... args) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("chromium-profile-");
        try {
            List<String> command = new ArrayList<>(List.of(executable.toString(), "--headless", "--no-sandbox",
                    "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + profile));
            command.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.redirectOutput(stdout != null ? ProcessBuilder.Redirect.to(stdout.toFile()) : ProcessBuilder.Redirect.DISCARD);
            if (libraryPath != null) {
                pb.environment().put("LD_LIBRARY_PATH", libraryPath);
            }
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("chromium did not finish in 120 s: " + command);
            }
            if (p.exitValue() != 0) {
                throw new IOException("chromium exited " + p.exitValue() + ": " + command);
            }
        } finally {
            deleteTree(profile);
        }
    }

    private static void fetch(Path root) throws IOException, InterruptedException {
        Files.createDirectories(root.getParent());
        Path work = Files.createTempDirectory(root.getParent(), "fetch-");
        try {
            List<String> apt = new ArrayList<>();
            List<String> packages = missingPackages(work, apt);
            if (packages.isEmpty()) {
                // No package lists here (or stale ones): read them into a private apt state, as any user.
                Path state = root.getParent().resolve("apt");
                Files.createDirectories(state.resolve("lists/partial"));
                Files.createDirectories(state.resolve("cache/archives/partial"));
                apt = List.of("-o", "Dir::State::Lists=" + state.resolve("lists"), "-o", "Dir::Cache=" + state.resolve("cache"),
                        "-o", "Debug::NoLocking=1");
                command(work, concat(List.of("apt-get", "-q"), apt, List.of("update")));
                packages = missingPackages(work, apt);
            }
            if (!packages.contains("chromium")) {
                throw new IOException("apt-get cannot find the Debian package chromium");
            }
            command(work, concat(List.of("apt-get"), apt, List.of("download"), packages));
            Path unpacked = work.resolve("root");
            try (Stream<Path> debs = Files.list(work)) {
                for (Path deb : debs.filter(f -> f.toString().endsWith(".deb")).toList()) {
                    command(work, List.of("dpkg-deb", "-x", deb.toString(), unpacked.toString()));
                }
            }
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

    /** chromium and what this machine lacks of its dependencies: the "Inst" lines of a simulated install. */
    private static List<String> missingPackages(Path work, List<String> aptOptions) throws IOException, InterruptedException {
        Path log = work.resolve("simulate.log");
        Process p = new ProcessBuilder(concat(List.of("apt-get", "-s", "--no-install-recommends"), aptOptions,
                List.of("install", "chromium"))).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        p.waitFor(5, TimeUnit.MINUTES);
        List<String> packages = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            if (line.startsWith("Inst ")) {
                packages.add(line.split(" ")[1]);
            }
        }
        return packages;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> part : parts) {
            all.addAll(part);
        }
        return all;
    }

    private static void command(Path dir, List<String> command) throws IOException, InterruptedException {
        Path log = dir.resolve("command.log");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed:\n" + Files.readString(log));
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
