package org.iotgateway.reload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.apache.camel.CamelContext;
import org.apache.camel.FailedToCreateRouteException;
import org.apache.camel.ResolveEndpointFailedException;
import org.apache.camel.StartupSummaryLevel;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.model.ExecutorServiceAwareDefinition;
import org.apache.camel.model.Model;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.PropertiesSource;
import org.apache.camel.spi.Resource;
import org.apache.camel.spi.ThreadPoolProfile;
import org.apache.camel.support.DefaultRegistry;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * Checks a route file before it may replace running routes, in three steps, each reporting the line it fails at: the
 * YAML DSL schema of camel-yaml-dsl, Camel's own parser, and building its routes (endpoints, bean references,
 * expressions, placeholders) in a context of its own that is never started, so nothing binds a port or connects.
 */
public final class RouteFileCheck {

    private static final Pattern FAILING_STEP = Pattern.compile(">>> (.+?) <<<");
    private static volatile JsonSchema schema;

    private final CamelContext live;

    public RouteFileCheck(CamelContext live) {
        this.live = live;
    }

    /**
     * @param otherRoutes id → file of the running routes that other files define: the file must not take one of their ids
     * @return the ids of the routes the file defines
     */
    public List<String> check(Path file, String text, Map<String, String> otherRoutes) throws InvalidRouteFileException {
        List<RouteDefinition> routes;
        try {
            Node document = parse(file, text);
            checkSchema(file, document);
            routes = build(file, text);
        } catch (RuntimeException e) {
            // YAML the parser refuses without a position (a mapping as a key, say), or a failure of the check itself
            throw new InvalidRouteFileException(file, 0, "cannot be read as a route file: " + e.getMessage());
        }
        List<String> ids = new ArrayList<>();
        for (RouteDefinition route : routes) {
            if (!route.hasCustomIdAssigned()) {
                throw new InvalidRouteFileException(file, route.getLineNumber(), "a route without an id: give every route an id");
            }
            if (ids.contains(route.getRouteId())) {
                throw new InvalidRouteFileException(file, route.getLineNumber(), "route id '" + route.getRouteId()
                        + "' is used twice in this file");
            }
            if (otherRoutes.containsKey(route.getRouteId())) {
                throw new InvalidRouteFileException(file, route.getLineNumber(), "route id '" + route.getRouteId()
                        + "' belongs to a route of " + otherRoutes.get(route.getRouteId()));
            }
            ids.add(route.getRouteId());
        }
        return ids;
    }

    private static Node parse(Path file, String text) throws InvalidRouteFileException {
        try {
            return new Compose(LoadSettings.builder().setLabel(file.toString()).build()).composeString(text)
                    .orElseThrow(() -> new InvalidRouteFileException(file, 0, "the file is empty"));
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(mark -> mark.getLine() + 1).orElse(0);
            throw new InvalidRouteFileException(file, line, "not YAML: " + e.getProblem());
        }
    }

    /** Reports the schema error that is deepest in the document: the outer ones only say that no alternative fitted. */
    private static void checkSchema(Path file, Node document) throws InvalidRouteFileException {
        List<ValidationMessage> errors = new ArrayList<>(schema().validate(toJson(document)));
        if (errors.isEmpty()) {
            return;
        }
        errors.sort(Comparator.comparingInt((ValidationMessage error) -> error.getInstanceLocation().getNameCount()).reversed());
        ValidationMessage deepest = errors.get(0);
        throw new InvalidRouteFileException(file, lineOf(document, deepest.getInstanceLocation()),
                "does not fit the YAML DSL schema: " + deepest.getMessage());
    }

    /** Loads the schema (800 kB, one or two seconds on a small machine) ahead of the first edit. */
    public static void prepare() {
        schema();
    }

    private static JsonSchema schema() {
        JsonSchema loaded = schema;
        if (loaded == null) {
            try (InputStream in = RouteFileCheck.class.getClassLoader().getResourceAsStream("schema/camelYamlDsl.json")) {
                if (in == null) {
                    throw new IllegalStateException("camel-yaml-dsl's schema/camelYamlDsl.json is not on the class path");
                }
                // the DSL schema marks options "deprecated", a keyword draft 4 does not know: it annotates, it does not validate
                JsonMetaSchema draft4 = JsonMetaSchema.builder(JsonMetaSchema.getV4()).keyword(new NonValidationKeyword("deprecated")).build();
                // built as documents reach its parts, and without keeping each $ref's validators: preloaded and cached,
                // the 800 kB schema takes 250 MB of heap
                SchemaValidatorsConfig lazy = SchemaValidatorsConfig.builder().preloadJsonSchema(false).cacheRefs(false)
                        .pathType(PathType.LEGACY).build();
                loaded = JsonSchemaFactory.builder(JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4)).metaSchema(draft4).build()
                        .getSchema(new ObjectMapper().readTree(in), lazy);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the YAML DSL schema", e);
            }
            schema = loaded;
        }
        return loaded;
    }

    /** Parses and builds the routes in a context that shares the application's properties and beans but never starts. */
    private List<RouteDefinition> build(Path file, String text) throws InvalidRouteFileException {
        DefaultCamelContext scratch = new DefaultCamelContext(false);
        try {
            scratch.getCamelContextExtension().setRegistry(new DefaultRegistry(live.getRegistry()));
            scratch.getPropertiesComponent().addPropertiesSource(new PropertiesSource() {
                @Override
                public String getName() {
                    return "gateway";
                }

                @Override
                public String getProperty(String name) {
                    return live.getPropertiesComponent().resolveProperty(name).orElse(null);
                }
            });
            scratch.setSourceLocationEnabled(true);
            scratch.setStartupSummaryLevel(StartupSummaryLevel.Off);
            scratch.build();
            Resource resource = ResourceHelper.fromString("file:" + file, text);
            try {
                PluginHelper.getRoutesLoader(scratch).loadRoutes(resource);
            } catch (Exception e) {
                throw new InvalidRouteFileException(file, lineIn(e), "Camel cannot read it: " + message(e, scratch));
            }
            List<RouteDefinition> routes = scratch.getCamelContextExtension().getContextPlugin(Model.class).getRouteDefinitions();
            routes.forEach(route -> shareThreadPoolProfiles(route.getOutputs(), scratch));
            try {
                scratch.init();
            } catch (Exception e) {
                throw new InvalidRouteFileException(file, lineOfFailure(e, routes), message(e, scratch));
            }
            return List.copyOf(routes);
        } finally {
            scratch.stop();
        }
    }

    /** The thread pool profiles the steps name (application.properties' camel.threadpool.config[...]) are the application's. */
    private void shareThreadPoolProfiles(List<ProcessorDefinition<?>> steps, CamelContext scratch) {
        for (ProcessorDefinition<?> step : steps) {
            if (step instanceof ExecutorServiceAwareDefinition<?> pooled && pooled.getExecutorServiceRef() != null) {
                ThreadPoolProfile profile = live.getExecutorServiceManager().getThreadPoolProfile(pooled.getExecutorServiceRef());
                if (profile != null) {
                    scratch.getExecutorServiceManager().registerThreadPoolProfile(profile);
                }
            }
            shareThreadPoolProfiles(step.getOutputs(), scratch);
        }
    }

    /** The line of the step Camel names as failing ({@code >>> step <<<}), else of the route, else 0. */
    private static int lineOfFailure(Exception failure, List<RouteDefinition> routes) {
        FailedToCreateRouteException failed = failedRoute(failure);
        RouteDefinition route = failed == null ? null
                : routes.stream().filter(candidate -> failed.getRouteId().equals(candidate.getRouteId())).findFirst().orElse(null);
        if (route == null) {
            return 0;
        }
        Matcher step = FAILING_STEP.matcher(String.valueOf(failed.getMessage()));
        int line = step.find() ? lineOfStep(route.getOutputs(), step.group(1)) : 0;
        return line > 0 ? line : route.getInput() != null ? route.getInput().getLineNumber() : route.getLineNumber();
    }

    private static FailedToCreateRouteException failedRoute(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof FailedToCreateRouteException failed) {
                return failed;
            }
        }
        return null;
    }

    private static int lineOfStep(List<ProcessorDefinition<?>> steps, String described) {
        for (ProcessorDefinition<?> step : steps) {
            int nested = lineOfStep(step.getOutputs(), described);
            if (nested > 0) {
                return nested;
            }
            if (step.toString().equals(described)) {
                return step.getLineNumber();
            }
        }
        return 0;
    }

    private static int lineIn(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof MarkedYamlEngineException marked) {
                return marked.getProblemMark().or(marked::getContextMark).map(mark -> mark.getLine() + 1).orElse(0);
            }
        }
        return 0;
    }

    /** The innermost reason, after the route and step Camel names: its wrappers repeat the whole route. */
    private static String message(Throwable failure, CamelContext scratch) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String reason = root.getMessage() != null ? root.getMessage() : root.toString();
        if (root instanceof ResolveEndpointFailedException unresolved) {
            reason = UnknownOptions.describe(scratch, unresolved.getUri()).orElse(reason);
        }
        FailedToCreateRouteException failedRoute = failedRoute(failure);
        if (failedRoute == null) {
            return reason;
        }
        Matcher step = FAILING_STEP.matcher(String.valueOf(failedRoute.getMessage()));
        return "route '" + failedRoute.getRouteId() + "'" + (step.find() ? ", step " + step.group(1) : "") + ": " + reason;
    }

    private static JsonNode toJson(Node node) {
        if (node instanceof MappingNode mapping) {
            ObjectNode object = JsonNodeFactory.instance.objectNode();
            for (NodeTuple entry : mapping.getValue()) {
                object.set(((ScalarNode) entry.getKeyNode()).getValue(), toJson(entry.getValueNode()));
            }
            return object;
        }
        if (node instanceof SequenceNode sequence) {
            ArrayNode array = JsonNodeFactory.instance.arrayNode();
            sequence.getValue().forEach(item -> array.add(toJson(item)));
            return array;
        }
        ScalarNode scalar = (ScalarNode) node;
        String value = scalar.getValue();
        Tag tag = scalar.getTag();
        if (tag.equals(Tag.INT)) {
            return JsonNodeFactory.instance.numberNode(new java.math.BigInteger(value));
        }
        if (tag.equals(Tag.FLOAT)) {
            return JsonNodeFactory.instance.numberNode(new java.math.BigDecimal(value));
        }
        if (tag.equals(Tag.BOOL)) {
            return JsonNodeFactory.instance.booleanNode(Boolean.parseBoolean(value));
        }
        if (tag.equals(Tag.NULL)) {
            return JsonNodeFactory.instance.nullNode();
        }
        return JsonNodeFactory.instance.textNode(value);
    }

    /** The line (1-based) of the node a schema error points at: {@code $[1].route.from.steps[2]}. */
    private static int lineOf(Node document, JsonNodePath path) {
        Node node = document;
        for (int i = 0; i < path.getNameCount(); i++) {
            Object element = path.getElement(i);
            Node next = null;
            if (node instanceof SequenceNode sequence && element instanceof Integer index && index < sequence.getValue().size()) {
                next = sequence.getValue().get(index);
            } else if (node instanceof MappingNode mapping) {
                next = mapping.getValue().stream()
                        .filter(entry -> entry.getKeyNode() instanceof ScalarNode key && key.getValue().equals(String.valueOf(element)))
                        .map(NodeTuple::getValueNode).findFirst().orElse(null);
            }
            if (next == null) {
                break;
            }
            node = next;
        }
        return node.getStartMark().map(mark -> mark.getLine() + 1).orElse(0);
    }
}
