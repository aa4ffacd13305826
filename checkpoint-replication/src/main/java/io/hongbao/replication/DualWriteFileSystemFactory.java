package io.hongbao.replication;

import java.io.IOException;
import java.net.URI;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystemFactory;

/**
 * Creates {@link DualWriteFileSystem} for {@code dual://} URIs. Install the replication jar as a Flink plugin
 * ({@code plugins/dual-fs/}) and set, in each datacenter's {@code config.yaml}:
 *
 * <pre>
 * dual.primary: s3://hongbao-checkpoints-dc-a      # this datacenter's storage
 * dual.replica: s3://hongbao-checkpoints-dc-b      # the other one's (leave out to run on one datacenter)
 * execution.checkpointing.dir: dual:///checkpoints
 * </pre>
 */
public final class DualWriteFileSystemFactory implements FileSystemFactory {

    public static final ConfigOption<String> PRIMARY = ConfigOptions.key("dual.primary").stringType().noDefaultValue()
            .withDescription("Root URI of this datacenter's checkpoint storage.");
    public static final ConfigOption<String> REPLICA = ConfigOptions.key("dual.replica").stringType().noDefaultValue()
            .withDescription("Root URI of the other datacenter's checkpoint storage; unset: no replication.");

    private URI primary;
    private URI replica;

    @Override
    public String getScheme() {
        return DualWriteFileSystem.SCHEME;
    }

    @Override
    public void configure(Configuration config) {
        primary = config.getOptional(PRIMARY).map(URI::create).orElse(null);
        replica = config.getOptional(REPLICA).filter(s -> !s.isBlank()).map(URI::create).orElse(null);
    }

    @Override
    public FileSystem create(URI fsUri) throws IOException {
        if (primary == null) {
            throw new IOException("dual:// needs '" + PRIMARY.key() + "' in the Flink configuration");
        }
        return new DualWriteFileSystem(primary, replica);
    }
}
