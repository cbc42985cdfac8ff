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
import java.util.TreeSet;
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
 * The project's kustomization (camel-k/ and the ConfigMaps of its files) rendered with kustomize as users apply it, checked offline: every Camel K resource against the CRD schema of
 * Camel K 2.10 (shared/schemas/camel-k, with unknown fields refused: the API server would drop them silently), and the
 * generated ConfigMaps against the files they come from.
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

    @Test
    void should_mount_every_route_file_and_the_properties_exactly_as_they_are_in_the_project() throws IOException {
        JsonNode integration = ofKind("Integration").get(0);
        Set<String> mounts = new TreeSet<>();
        integration.path("spec").path("traits").path("mount").path("resources").forEach(mount -> mounts.add(mount.asText()));
        assertThat(configMap("iot-gateway-config").path("data").path("application.properties").asText())
                .isEqualTo(Files.readString(Path.of("application.properties")));
        assertThat(mounts).contains("configmap:iot-gateway-config@/deployments/config");
        try (Stream<Path> groups = Files.list(Path.of("routes"))) {
            for (Path group : groups.filter(Files::isDirectory).toList()) {
                String name = "iot-gateway-routes-" + group.getFileName();
                JsonNode data = configMap(name).path("data");
                try (Stream<Path> files = Files.list(group)) {
                    for (Path file : files.filter(path -> path.toString().endsWith(".camel.yaml")).toList()) {
                        assertThat(data.path(file.getFileName().toString()).asText()).as(file + " in ConfigMap " + name)
                                .isEqualTo(Files.readString(file));
                    }
                }
                assertThat(mounts).contains("configmap:" + name + "@/deployments/routes/" + group.getFileName());
            }
        }
    }

    @Test
    void should_expose_mqtt_sn_over_udp_probe_the_observe_endpoints_and_route_the_onem2m_port() {
        JsonNode traits = ofKind("Integration").get(0).path("spec").path("traits");
        assertThat(traits.path("service").path("type").asText()).isIn("LoadBalancer", "NodePort");
        assertThat(traits.path("service").path("ports").toString()).contains("mqttsn;2883;2883;UDP", "onem2m;8282;8282");
        assertThat(traits.path("health").path("livenessProbe").asText()).isEqualTo("/observe/health/live");
        assertThat(traits.path("health").path("readinessProbe").asText()).isEqualTo("/observe/health/ready");
        JsonNode route = ofKind("Route").get(0);
        assertThat(route.path("spec").path("to").path("name").asText()).isEqualTo(ofKind("Integration").get(0).path("metadata").path("name").asText());
        assertThat(route.path("spec").path("port").path("targetPort").asText()).isEqualTo("onem2m");
    }
}
