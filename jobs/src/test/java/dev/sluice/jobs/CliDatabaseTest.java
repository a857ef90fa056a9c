package dev.sluice.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.zaxxer.hikari.HikariDataSource;

import dev.sluice.engine.testing.Db;
import dev.sluice.engine.testing.Postgres;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test of the command line against a database of its own: a fresh database, a config directory whose
 * {@code jobs/} holds the specs a test writes, and the options that point the CLI at both. A subclass seeds its
 * tables in a {@code @BeforeEach} of its own, which runs after this one.
 */
abstract class CliDatabaseTest {

    @TempDir
    Path dir;

    HikariDataSource ds;
    Db db;

    @BeforeEach
    final void openDatabase() throws IOException {
        ds = Postgres.newDatabase();
        db = new Db(ds);
        Files.createDirectories(dir.resolve("jobs"));
    }

    @AfterEach
    final void closeDatabase() {
        ds.close();
    }

    /** {@code args} with this test's config directory and database. */
    String[] args(String... args) {
        return Cli.against(dir, ds.getJdbcUrl(), args);
    }

    /** Writes {@code jobs/NAME.yml}: {@code name: NAME} then {@code body}. */
    void writeSpec(String name, String body) throws IOException {
        Files.writeString(dir.resolve("jobs/" + name + ".yml"), "name: " + name + "\n" + body);
    }
}
