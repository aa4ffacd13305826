package io.hongbao.settlement;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Connections from code in class loaders of its own, as on a Flink cluster where every submitted job gets a
 * child-first user-code class loader with its own copy of this module and pgjdbc: each job must connect (a
 * second job on one JobManager got "No suitable driver found"), and none may leave its driver registered with
 * the JVM-wide DriverManager, which would keep its class loader, and every class in it, alive.
 */
class SettlementDatabaseClassLoaderITCase {
    @Test
    void shouldConnectFromEveryJobsClassLoaderAndLeaveNoDriverRegistered() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.emptyDatabase("classloaders");
        URL[] jobJar = {codeSource(SettlementDatabase.class), codeSource(org.postgresql.Driver.class)};
        for (int job = 1; job <= 2; job++) {
            // Parent: the platform loader (java.sql), so this module and pgjdbc come from the "job jar" only.
            try (URLClassLoader userCode = new URLClassLoader("job-" + job, jobJar, ClassLoader.getPlatformClassLoader())) {
                Class<?> type = Class.forName(SettlementDatabase.class.getName(), true, userCode);
                assertThat(type).isNotSameAs(SettlementDatabase.class);
                Object inJob = type.getMethod("of", String.class, String.class, String.class)
                        .invoke(null, db.jdbcUrl(), db.user(), db.password());
                try (Connection c = (Connection) call(() -> type.getMethod("connect", String.class).invoke(inJob, "job " + 0));
                        Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                    assertThat(rs.next()).isTrue();
                }
                Class<?> driver = Class.forName("org.postgresql.Driver", false, userCode);
                assertThat(driver.getClassLoader()).isSameAs(userCode);
                assertThat((boolean) driver.getMethod("isRegistered").invoke(null))
                        .as("job %d's pgjdbc is registered with DriverManager (pins its class loader)", job).isFalse();
            }
        }
    }

    private interface Reflective {
        Object call() throws Exception;
    }

    /** Unwraps the reflective call's exception, so a failure shows pgjdbc's or DriverManager's message. */
    private static Object call(Reflective call) throws Exception {
        try {
            return call.call();
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    private static URL codeSource(Class<?> type) {
        return type.getProtectionDomain().getCodeSource().getLocation();
    }
}
