package dev.sluice.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The database a URL names itself, not the one the driver would pick: a scratch database must be named. */
class JdbcUrlTest {

    @ParameterizedTest(name = "{0}: ''{1}''")
    @CsvSource(
            delimiter = '|',
            value = {
                "jdbc:postgresql://localhost:5432/sluice_bench|sluice_bench",
                "jdbc:postgresql://localhost/sluice_bench?user=postgres&ssl=false|sluice_bench",
                "jdbc:postgresql:sluice_bench|sluice_bench",
                "jdbc:postgresql://h1:5432,h2:5433/db?targetServerType=primary|db",
                "jdbc:postgresql://localhost/?PGDBNAME=scratch|scratch",
                // The driver would connect to the database named as the user: not named here.
                "jdbc:postgresql://localhost:5432/|''",
                "jdbc:postgresql://localhost/?user=postgres|''",
                "jdbc:postgresql:?user=postgres|''",
            })
    void isTheOneInItsPathOrParameters(String url, String database) {
        assertThat(JdbcUrl.namedDatabase(url)).isEqualTo(database);
    }
}
