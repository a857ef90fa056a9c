package dev.sluice.boot;

import dev.sluice.engine.spec.JobSpec;
import dev.sluice.engine.spec.SpecParser;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.security.autoconfigure.actuate.web.servlet.EndpointRequest;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * An application as a team would write it: its own DataSource (spring.datasource.*), a job spec in
 * {@code src/main/resources/sluice/jobs}, another as a bean, and Actuator secured the usual way: reading is open,
 * writing needs the OPS role.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class ShopApplication {

    static final String OPERATOR = "ops";
    static final String OPERATOR_PASSWORD = "ops-password-for-the-test";

    @Bean
    JobSpec lowerEmails() {
        return SpecParser.parse("""
                name: lower-emails
                table: customers
                key: [id]
                set: { email_lower: lower(email) }
                schedule: { cron: "*/2 * * * * *" }
                """);
    }

    @Bean
    @ConditionalOnWebApplication
    SecurityFilterChain actuator(HttpSecurity http) throws Exception {
        http.securityMatcher(EndpointRequest.toAnyEndpoint())
                .authorizeHttpRequests(a -> a.requestMatchers(HttpMethod.GET)
                        .permitAll()
                        .anyRequest()
                        .hasRole("OPS"))
                .httpBasic(Customizer.withDefaults())
                .csrf(c -> c.disable());
        return http.build();
    }

    @Bean
    InMemoryUserDetailsManager users() {
        return new InMemoryUserDetailsManager(User.withUsername(OPERATOR)
                .password("{noop}" + OPERATOR_PASSWORD)
                .roles("OPS")
                .build());
    }
}
