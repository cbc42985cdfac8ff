package org.iotgateway;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/grafana-dashboard.json queries only metrics the gateway registers, and has a panel for every route group. */
class GrafanaDashboardTest {

    private static final Pattern METER = Pattern.compile("(Counter|Gauge|Timer)\\.builder\\(\"([a-z0-9.]+)\"");
    private static final Pattern METRIC_IN_QUERY = Pattern.compile("\\b([a-z_][a-z0-9_]*)(\\{|\\[)");
    // the JVM meters of camel.metrics.binders in application.properties
    private static final Pattern JVM = Pattern.compile("(jvm|process|system)_[a-z_]+");

    /** The Prometheus names of the meters built in src/main/java. */
    private static Set<String> registeredMetrics() throws IOException {
        Set<String> names = new HashSet<>();
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            for (Path source : sources.filter(path -> path.toString().endsWith(".java")).toList()) {
                Matcher meter = METER.matcher(Files.readString(source));
                while (meter.find()) {
                    String name = meter.group(2).replace('.', '_');
                    switch (meter.group(1)) {
                        case "Counter" -> names.add(name + "_total");
                        case "Gauge" -> names.add(name);
                        default -> Stream.of("_bucket", "_count", "_sum", "_max").forEach(suffix -> names.add(name + "_seconds" + suffix));
                    }
                }
            }
        }
        return names;
    }

    private static JsonNode dashboard() throws IOException {
        return new ObjectMapper().readTree(Path.of("docs/grafana-dashboard.json").toFile());
    }

    @Test
    void should_query_only_metrics_the_gateway_registers() throws IOException {
        Set<String> registered = registeredMetrics();
        Set<String> queried = new TreeSet<>();
        for (JsonNode panel : dashboard().path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                Matcher metric = METRIC_IN_QUERY.matcher(target.path("expr").asText());
                while (metric.find()) {
                    queried.add(metric.group(1));
                }
            }
        }
        assertThat(queried).isNotEmpty();
        assertThat(queried).allSatisfy(name -> assertThat(registered.contains(name) || JVM.matcher(name).matches())
                .as(name + " is registered by the gateway").isTrue());
    }

    @Test
    void should_have_a_row_for_every_route_group() throws IOException {
        Set<String> rows = new TreeSet<>();
        dashboard().path("panels").forEach(panel -> {
            if (panel.path("type").asText().equals("row")) {
                rows.add(panel.path("title").asText());
            }
        });
        try (Stream<Path> groups = Files.list(Path.of("routes"))) {
            for (Path group : groups.filter(Files::isDirectory).toList()) {
                assertThat(rows).anySatisfy(title -> assertThat(title).contains("routes/" + group.getFileName() + ")"));
            }
        }
    }
}
