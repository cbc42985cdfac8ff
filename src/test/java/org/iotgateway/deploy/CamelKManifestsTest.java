package org.iotgateway.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The project's kustomization (camel-k/ and the ConfigMaps of its files) rendered with kustomize as users apply it,
 * checked offline: every Camel K resource against the CRD schema of Camel K 2.10 (shared/schemas/camel-k, with unknown
 * fields refused: the API server would drop them silently), one Integration per route group with exactly its files,
 * and the Service, autoscaler, Route and PodMonitor pointing at what the Integrations create.
 */
class CamelKManifestsTest {

    private static final Path SCHEMAS = Path.of("..", "shared", "schemas", "camel-k");
    private static final Map<String, String> SCHEMA_OF_KIND = Map.of("Integration", "integration_v1.json",
            "Pipe", "pipe_v1.json", "Kamelet", "kamelet_v1.json");
    private static final List<JsonNode> RENDERED = new ArrayList<>();

    @BeforeAll
    static void render() throws Exception {
        Process kustomize = new ProcessBuilder("kubectl", "kustomize", ".")
                .redirectErrorStream(true).start();
        String output = new String(kustomize.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(kustomize.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(kustomize.exitValue()).as("kubectl kustomize: " + output).isZero();
        new YAMLMapper().readValues(new YAMLFactory().createParser(output), JsonNode.class).forEachRemaining(RENDERED::add);
    }

    private static List<JsonNode> ofKind(String kind) {
        return RENDERED.stream().filter(document -> document.path("kind").asText().equals(kind)).toList();
    }

    private static JsonNode configMap(String name) {
        return ofKind("ConfigMap").stream().filter(map -> map.path("metadata").path("name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no ConfigMap " + name));
    }

    @Test
    void should_render_camel_k_resources_that_fit_the_crd_schemas_without_unknown_fields() throws IOException {
        List<JsonNode> camelK = RENDERED.stream().filter(document -> SCHEMA_OF_KIND.containsKey(document.path("kind").asText())).toList();
        assertThat(camelK).extracting(document -> document.path("kind").asText()).contains("Integration");
        for (JsonNode resource : camelK) {
            JsonNode schema = strict(new ObjectMapper().readTree(SCHEMAS.resolve(SCHEMA_OF_KIND.get(resource.path("kind").asText())).toFile()));
            Set<ValidationMessage> errors = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(schema).validate(resource);
            assertThat(errors).as(resource.path("kind").asText() + " " + resource.path("metadata").path("name").asText()).isEmpty();
        }
    }

    /** The schema with additionalProperties=false wherever it lists the properties and does not keep unknown ones. */
    private static JsonNode strict(JsonNode schema) {
        if (schema.isObject()) {
            ObjectNode object = (ObjectNode) schema;
            if (object.has("properties") && !object.has("additionalProperties")
                    && !object.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
                object.put("additionalProperties", false);
            }
            Iterator<JsonNode> children = object.elements();
            children.forEachRemaining(CamelKManifestsTest::strict);
        } else if (schema.isArray()) {
            schema.forEach(CamelKManifestsTest::strict);
        }
        return schema;
    }

    private static JsonNode named(String kind, String name) {
        return ofKind(kind).stream().filter(resource -> resource.path("metadata").path("name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    private static List<String> groups() throws IOException {
        try (Stream<Path> groups = Files.list(Path.of("routes"))) {
            return groups.filter(Files::isDirectory).map(group -> group.getFileName().toString()).sorted().toList();
        }
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(item -> texts.add(item.asText()));
        return texts;
    }

    @Test
    void should_run_each_route_group_as_an_integration_of_its_own_with_exactly_its_route_files() throws IOException {
        assertThat(configMap("iot-gateway-config").path("data").path("application.properties").asText())
                .isEqualTo(Files.readString(Path.of("application.properties")));
        assertThat(ofKind("Integration")).extracting(integration -> integration.path("metadata").path("name").asText())
                .containsExactlyInAnyOrderElementsOf(groups().stream().map(group -> "iot-gateway-" + group).toList());
        for (String group : groups()) {
            JsonNode traits = named("Integration", "iot-gateway-" + group).path("spec").path("traits");
            assertThat(texts(traits.path("environment").path("vars"))).as(group).contains("GATEWAY_GROUPS=" + group);
            assertThat(texts(traits.path("mount").path("resources"))).as(group).containsExactly(
                    "configmap:iot-gateway-config@/deployments/config",
                    "configmap:iot-gateway-routes-" + group + "@/deployments/routes/" + group);
            JsonNode data = configMap("iot-gateway-routes-" + group).path("data");
            try (Stream<Path> files = Files.list(Path.of("routes", group))) {
                List<Path> routeFiles = files.filter(path -> path.toString().endsWith(".camel.yaml")).toList();
                assertThat(data.size()).as("files in ConfigMap iot-gateway-routes-" + group).isEqualTo(routeFiles.size());
                for (Path file : routeFiles) {
                    assertThat(data.path(file.getFileName().toString()).asText()).as(file + " in its ConfigMap")
                            .isEqualTo(Files.readString(file));
                }
            }
        }
    }

    @Test
    void should_probe_each_group_on_its_own_readiness_and_drain_before_the_gateway_stops() throws IOException {
        int shutdownSeconds = Integer.parseInt(property("camel.main.shutdown-timeout"));
        for (JsonNode integration : ofKind("Integration")) {
            String name = integration.path("metadata").path("name").asText();
            JsonNode health = integration.path("spec").path("traits").path("health");
            assertThat(health.path("livenessProbe").asText()).as(name).isEqualTo("/observe/health/live");
            assertThat(health.path("readinessProbe").asText()).as(name).isEqualTo("/observe/health/ready");
            assertThat(texts(integration.path("spec").path("traits").path("container").path("ports"))).as(name)
                    .contains("management;9876");
            JsonNode pod = integration.path("spec").path("template").path("spec");
            int drainSeconds = pod.path("containers").get(0).path("lifecycle").path("preStop").path("sleep").path("seconds").asInt();
            assertThat(drainSeconds).as(name + " drain").isPositive();
            assertThat(pod.path("terminationGracePeriodSeconds").asInt()).as(name + " grace period")
                    .isGreaterThan(drainSeconds + shutdownSeconds);
            assertThat(integration.path("spec").path("traits").path("pdb").path("enabled").asBoolean()).as(name + " PDB").isTrue();
        }
    }

    @Test
    void should_expose_mqtt_sn_over_udp_with_the_meters_source_addresses_and_scale_it_on_cpu() {
        JsonNode service = named("Service", "iot-gateway-mqttsn");
        assertThat(service.path("spec").path("externalTrafficPolicy").asText()).isEqualTo("Local");
        assertThat(service.path("spec").path("selector").path("camel.apache.org/integration").asText()).isEqualTo("iot-gateway-mqttsn");
        assertThat(service.path("spec").path("ports").get(0).path("protocol").asText()).isEqualTo("UDP");
        JsonNode mqttsn = named("Integration", "iot-gateway-mqttsn").path("spec");
        assertThat(texts(mqttsn.path("traits").path("container").path("ports"))).contains("mqttsn;2883;UDP");
        assertThat(mqttsn.has("replicas")).as("replicas belong to the autoscaler").isFalse();
        assertThat(mqttsn.path("traits").path("container").path("requestCPU").asText()).isNotEmpty();
        JsonNode target = named("HorizontalPodAutoscaler", "iot-gateway-mqttsn").path("spec").path("scaleTargetRef");
        assertThat(target.path("kind").asText()).isEqualTo("Integration");
        assertThat(target.path("name").asText()).isEqualTo("iot-gateway-mqttsn");
    }

    @Test
    void should_route_http_to_the_live_feed_and_the_onem2m_binding_and_scrape_every_group() throws IOException {
        JsonNode live = named("Integration", "iot-gateway-live").path("spec").path("traits");
        assertThat(texts(live.path("service").path("ports"))).contains("http;80;8080");
        assertThat(live.path("route").path("tlsTermination").asText()).isEqualTo("edge");
        JsonNode onem2m = named("Integration", "iot-gateway-onem2m").path("spec").path("traits");
        assertThat(texts(onem2m.path("service").path("ports"))).contains("onem2m;8282;8282");
        JsonNode route = named("Route", "iot-gateway-onem2m").path("spec");
        assertThat(route.path("to").path("name").asText()).isEqualTo("iot-gateway-onem2m");
        assertThat(route.path("port").path("targetPort").asText()).isEqualTo("onem2m");
        JsonNode monitor = named("PodMonitor", "iot-gateway").path("spec");
        assertThat(texts(monitor.path("selector").path("matchExpressions").get(0).path("values")))
                .containsExactlyInAnyOrderElementsOf(groups().stream().map(group -> "iot-gateway-" + group).toList());
        assertThat(monitor.path("podMetricsEndpoints").get(0).path("port").asText()).isEqualTo("management");
        assertThat(monitor.path("podMetricsEndpoints").get(0).path("path").asText()).isEqualTo("/observe/metrics");
    }

    private static String property(String name) throws IOException {
        return Files.readAllLines(Path.of("application.properties")).stream()
                .filter(line -> line.startsWith(name + " ")).map(line -> line.substring(line.indexOf('=') + 1).trim())
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " in application.properties"));
    }
}
