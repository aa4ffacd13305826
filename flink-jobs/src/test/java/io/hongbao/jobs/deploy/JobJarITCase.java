package io.hongbao.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.jobs.PayoutJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The shaded job jar as operators submit it (built in the package phase, before this runs): `flink run` without
 * `-c` starts the payout job, and nothing of the test tool chain rides along into the cluster.
 */
class JobJarITCase {
    private static final Path JAR = Path.of("target", "hongbao-flink-jobs.jar");

    @Test
    void mainClassIsThePayoutJob() throws Exception {
        assertThat(JAR).exists();
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue(Attributes.Name.MAIN_CLASS))
                    .isEqualTo(PayoutJob.class.getName());
            assertThat(jar.getEntry(PayoutJob.class.getName().replace('.', '/') + ".class")).isNotNull();
        }
    }

    @Test
    void carriesNoTestLibrariesAndNoFlinkRuntime() throws Exception {
        List<String> forbidden = List.of("org/assertj/", "net/jqwik/", "org/junit/", "org/apache/flink/test/",
                "org/apache/kafka/common/test/", "io/zonky/", "org/apache/flink/runtime/");
        try (JarFile jar = new JarFile(JAR.toFile())) {
            List<String> names = jar.stream().map(ZipEntry::getName).toList();
            assertThat(names).as("the job's own classes").anyMatch(n -> n.startsWith("io/hongbao/jobs/"));
            for (String prefix : forbidden) {
                assertThat(names).as("entries under " + prefix).noneMatch(n -> n.startsWith(prefix));
            }
        }
        assertThat(Files.size(JAR)).isPositive();
    }
}
