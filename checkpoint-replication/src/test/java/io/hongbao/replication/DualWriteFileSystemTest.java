package io.hongbao.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem.WriteMode;
import org.apache.flink.core.fs.FileSystemSafetyNet;
import org.apache.flink.core.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DualWriteFileSystemTest {

    /**
     * Flink caches one {@code dual://} file system per TaskManager, made by whichever task touches it first, under
     * that task's file-system safety net. The inner file systems must not be bound to that net: once the task
     * ends and closes it, every later task's checkpoint upload or restore through the cached instance would fail
     * with "registry is already closed" (seen in the DR drill: B's job could never checkpoint).
     */
    @Test
    void shouldOutliveTheSafetyNetOfTheTaskThatMadeIt(@TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path a = Files.createDirectories(dir.resolve("dc-a"));
        java.nio.file.Path b = Files.createDirectories(dir.resolve("dc-b"));
        DualWriteFileSystem fs;
        FileSystemSafetyNet.initializeSafetyNetForThread();
        try {
            fs = new DualWriteFileSystem(a.toUri(), b.toUri());
        } finally {
            FileSystemSafetyNet.closeSafetyNetAndGuardedResourcesForThread();
        }

        Path file = new Path("dual:///checkpoints/job/chk-1/state");
        try (FSDataOutputStream out = fs.create(file, WriteMode.NO_OVERWRITE)) {
            out.write(new byte[] {4, 2});
        }
        try (FSDataInputStream in = fs.open(file)) {
            assertThat(in.readAllBytes()).containsExactly(4, 2);
        }
        assertThat(a.resolve("checkpoints/job/chk-1/state")).hasBinaryContent(new byte[] {4, 2});
        assertThat(b.resolve("checkpoints/job/chk-1/state")).hasBinaryContent(new byte[] {4, 2});
    }
}
