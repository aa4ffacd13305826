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

    /**
     * pgjdbc's cleaner thread, started by a job's first connection, idles 30 s after the last one closes and pins
     * the job's class loader meanwhile (its inherited access control context names the job's protection domain);
     * a TaskManager whose job restarted every few seconds ran out of Metaspace. The release hook the sinks
     * register ({@link SettlementDatabase#releaseWith}) ends it: the loader must then be collectable at once.
     */
    @Test
    void shouldLetAJobsClassLoaderGoWhenFlinkReleasesIt() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.emptyDatabase("classloader_release");
        URL[] jobJar = {codeSource(SettlementDatabase.class), codeSource(org.postgresql.Driver.class)};
        java.lang.ref.WeakReference<ClassLoader> released = connectOnceAndRelease(jobJar, db);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (released.get() != null && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(100);
        }
        assertThat(released.get()).as("the job's class loader is still reachable 10 s after its release").isNull();
    }

    /** A "job" that connects once, closes, and is released the way Flink runs the hook; nothing of it stays on the stack. */
    private static java.lang.ref.WeakReference<ClassLoader> connectOnceAndRelease(URL[] jobJar, SettlementDatabase db)
            throws Exception {
        URLClassLoader userCode = new URLClassLoader("job", jobJar, ClassLoader.getPlatformClassLoader());
        Thread task = new Thread(() -> {
            try {
                Class<?> type = Class.forName(SettlementDatabase.class.getName(), true, userCode);
                Object inJob = type.getMethod("of", String.class, String.class, String.class)
                        .invoke(null, db.jdbcUrl(), db.user(), db.password());
                try (Connection c = (Connection) call(() -> type.getMethod("connect", String.class).invoke(inJob, "job"))) {
                    assertThat(c.isValid(5)).isTrue();
                }
                java.lang.reflect.Method hook = type.getDeclaredMethod("endIdleCleaner");
                hook.setAccessible(true);
                hook.invoke(null);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "task");
        // A task's thread: the job's code on its stack, so a thread it starts inherits the job's protection domain.
        task.setContextClassLoader(userCode);
        task.start();
        task.join();
        userCode.close();
        return new java.lang.ref.WeakReference<>(userCode);
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
