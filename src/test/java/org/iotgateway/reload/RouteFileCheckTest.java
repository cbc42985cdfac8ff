package org.iotgateway.reload;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RouteFileCheckTest {

    private static RunningGateway gateway;
    private static RouteFileCheck check;

    @BeforeAll
    static void start() throws Exception {
        // the MQTT-SN listener holds its UDP port: checking its file must not try to bind it again
        gateway = RunningGateway.start(Map.of());
        check = new RouteFileCheck(gateway.context());
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    @Test
    void should_accept_every_shipped_route_file() throws Exception {
        try (Stream<Path> files = Files.walk(Path.of("routes"))) {
            for (Path file : files.filter(path -> path.toString().endsWith(".camel.yaml")).toList()) {
                assertThat(check.check(file, Files.readString(file), Map.of())).as(file.toString()).isNotEmpty();
            }
        }
    }

    private static String rejection(String steps) {
        String yaml = "- route:\n    id: a\n    from:\n      uri: timer:x\n      steps:\n" + steps;
        try {
            check.check(Path.of("routes/demo/x.camel.yaml"), yaml, Map.of("taken", "routes/demo/other.camel.yaml"));
            return "accepted";
        } catch (InvalidRouteFileException e) {
            return e.getMessage();
        }
    }

    @Test
    void should_name_the_line_of_a_schema_or_yaml_error() {
        assertThat(rejection("        - lg:\n            message: hi\n")).isEqualTo("routes/demo/x.camel.yaml:6: does not fit the"
                + " YAML DSL schema: $[0].route.from.steps[0]: property 'lg' is not defined in the schema and the schema does"
                + " not allow additional properties");
        assertThat(rejection("        - log:\n          message: hi\n  bad")).isEqualTo("routes/demo/x.camel.yaml:8: not YAML:"
                + " could not find expected ':'");
    }

    @Test
    void should_name_the_step_whose_endpoint_bean_or_expression_cannot_be_resolved() {
        assertThat(rejection("        - to:\n            uri: nosuchcomponent:y\n")).startsWith("routes/demo/x.camel.yaml:6: route"
                + " 'a', step to[nosuchcomponent:y]: No endpoint could be found for: nosuchcomponent://y");
        assertThat(rejection("        - log: hi\n        - process:\n            ref: nosuchbean\n")).isEqualTo(
                "routes/demo/x.camel.yaml:7: route 'a', step process[ref:nosuchbean]: No bean could be found in the registry"
                + " for: nosuchbean of type: org.apache.camel.Processor");
        assertThat(rejection("        - setBody:\n            simple: \"${header.foo\"\n")).isEqualTo("routes/demo/x.camel.yaml:6:"
                + " route 'a', step SetBody[simple{${header.foo}]: expected symbol functionEnd but was eol");
    }

    @Test
    void should_refuse_unknown_endpoint_options_missing_properties_and_taken_route_ids() {
        // named from the component's catalog JSON: Camel's own components ship one, the build generates ours
        assertThat(rejection("        - to:\n            uri: \"timer:y?nosuchoption=1\"\n")).startsWith("routes/demo/x.camel.yaml:6:"
                + " route 'a', step to[timer:y?nosuchoption=1]: timer: has no option 'nosuchoption'; its options are"
                + " bridgeErrorHandler, daemon, delay,");
        assertThat(rejection("        - to:\n            uri: \"mqtt:liveMqtt?topik=a&retian=true\"\n")).isEqualTo(
                "routes/demo/x.camel.yaml:6: route 'a', step to[mqtt:liveMqtt?topik=a&retian=true]: mqtt: has no option 'topik'"
                + " (did you mean 'topic'?), 'retian' (did you mean 'retain'?); its options are bridgeErrorHandler,"
                + " everyCopy, exceptionHandler, exchangePattern, filters,"
                + " lazyStartProducer, qos, retain, shareGroup, subscriptions, topic");
        assertThat(rejection("        - to:\n            uri: \"log:{{no.such.property}}\"\n")).isEqualTo("routes/demo/x.camel.yaml:6:"
                + " route 'a', step to[log:{{no.such.property}}]: Property with key [no.such.property] not found in properties"
                + " from text: log:{{no.such.property}}");
        assertThatThrownBy(() -> check.check(Path.of("routes/demo/x.camel.yaml"),
                "- route:\n    from:\n      uri: timer:x\n      steps:\n        - log: hi\n", Map.of()))
                .hasMessage("routes/demo/x.camel.yaml:1: a route without an id: give every route an id");
        assertThatThrownBy(() -> check.check(Path.of("routes/demo/x.camel.yaml"), "? [a, b]\n: c\n", Map.of()))
                .hasMessage("routes/demo/x.camel.yaml: cannot be read as a route file: Non scalar key is detected but it is not"
                        + " configured to be allowed.");
        String taken = "- route:\n    id: taken\n    from:\n      uri: timer:x\n      steps:\n        - log: hi\n";
        assertThatThrownBy(() -> check.check(Path.of("routes/demo/x.camel.yaml"), taken, Map.of("taken", "routes/demo/other.camel.yaml")))
                .hasMessage("routes/demo/x.camel.yaml:1: route id 'taken' belongs to a route of routes/demo/other.camel.yaml");
    }
}
