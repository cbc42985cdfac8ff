package org.iotgateway.reload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.Consumer;
import org.apache.camel.DelegateEndpoint;
import org.apache.camel.Endpoint;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.apache.camel.Suspendable;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.camel.model.Model;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.support.service.ServiceHelper;
import org.apache.camel.support.service.ServiceSupport;
import org.iotgateway.GatewayMeters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies edits of the route files while the gateway runs, without ever leaving it with broken or missing routes.
 * The enabled groups' folders are read every interval (contents compared, so a Kubernetes ConfigMap's symlink swap is
 * seen like any edit). A changed file is checked ({@link RouteFileCheck}) before anything is touched; when it passes,
 * only the routes that file defines are replaced: each is stopped gracefully (its in-flight exchanges finish, so an
 * acknowledged message is never dropped), then the file's new routes are added. Routes of other files keep running: a
 * {@code direct:} producer waits for its consumer during the swap, unless it says {@code block=false} (the MQTT-SN
 * listener's answers congestion meanwhile). A file that fails the check leaves the running
 * routes as they are; its error (file, line, reason) is logged once, shown by the {@code route-files} health check
 * and counted until a later edit fixes it. A new file is added the same way; a deleted one takes its routes with it.
 */
public final class RouteFileReloader extends ServiceSupport {

    /** How long a replaced route's exchanges in flight are awaited before the graceful stop takes over. */
    private static final int DRAIN_SECONDS = 5;
    private static final Logger LOG = LoggerFactory.getLogger(RouteFileReloader.class);
    /** How a route file's name ends: {@code routes/<group>/*.camel.yaml}. */
    public static final String SUFFIX = ".camel.yaml";

    private final CamelContext camelContext;
    private final List<Path> folders;
    private final long intervalMillis;
    private final RouteFileCheck check;
    /** Each file's text as last handled (applied or rejected): a file is handled again only when it changes. */
    private final Map<Path, String> handled = new ConcurrentHashMap<>();
    private final Map<Path, InvalidRouteFileException> rejected = new ConcurrentHashMap<>();
    private final RouteFilesHealth health = new RouteFilesHealth();
    private ScheduledExecutorService poller;
    private Counter applied;
    private Counter refused;

    public RouteFileReloader(CamelContext camelContext, List<Path> folders, long intervalMillis) {
        this.camelContext = camelContext;
        this.folders = List.copyOf(folders);
        this.intervalMillis = intervalMillis;
        this.check = new RouteFileCheck(camelContext);
    }

    @Override
    protected void doStart() {
        MeterRegistry registry = GatewayMeters.registry(camelContext);
        applied = Counter.builder("gateway.route.reloads").tag("result", "applied")
                .description("Route file edits applied while running").register(registry);
        refused = Counter.builder("gateway.route.reloads").tag("result", "rejected")
                .description("Route file edits rejected by the check; the running routes stayed").register(registry);
        Gauge.builder("gateway.route.files.rejected", rejected, Map::size)
                .description("Route files whose current content is rejected (the routes running are from before the edit)")
                .register(registry);
        handled.putAll(files());
        HealthCheckRegistry.get(camelContext).register(health);
        poller = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "route-file-reloader");
            thread.setDaemon(true);
            return thread;
        });
        poller.execute(RouteFileCheck::prepare);
        poller.scheduleWithFixedDelay(this::poll, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
        LOG.info("Route files under {} are applied when edited (checked every {} ms)", folders, intervalMillis);
    }

    @Override
    protected void doStop() throws InterruptedException {
        if (poller != null) {
            poller.shutdownNow();
            poller.awaitTermination(30, TimeUnit.SECONDS);
        }
        HealthCheckRegistry.get(camelContext).unregister(health);
    }

    /** One pass over the folders; public so that tests need not wait for the timer. */
    public synchronized void poll() {
        if (!camelContext.isStarted() || camelContext.isStopping()) {
            // starting or shutting down: routes must not be replaced under the context's own start or stop
            return;
        }
        try {
            Map<Path, String> current = files();
            for (Map.Entry<Path, String> file : current.entrySet()) {
                if (!file.getValue().equals(handled.get(file.getKey()))) {
                    handle(file.getKey(), file.getValue());
                    handled.put(file.getKey(), file.getValue());
                }
            }
            for (Path gone : new ArrayList<>(handled.keySet())) {
                if (!current.containsKey(gone)) {
                    remove(gone);
                    handled.remove(gone);
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("Route file reload failed; the running routes stay as they are", e);
        }
    }

    private void handle(Path file, String text) {
        try {
            List<String> ids = check.check(file, text, routesOfOtherFiles(file));
            List<String> replaced = replace(file, text);
            rejected.remove(file);
            applied.increment();
            LOG.info("Route file {} applied: routes {} now run{}", file, ids,
                    replaced.isEmpty() ? "" : " (replacing " + replaced + ")");
        } catch (InvalidRouteFileException e) {
            rejected.put(file, e);
            refused.increment();
            LOG.error("Route file {} rejected, the running routes stay as they were: {}", file, e.getMessage());
        }
    }

    /** Stops and removes the file's routes, adds its new ones; on failure puts the old ones back. */
    private List<String> replace(Path file, String text) throws InvalidRouteFileException {
        Model model = camelContext.getCamelContextExtension().getContextPlugin(Model.class);
        List<RouteDefinition> old = definedBy(file, model);
        List<String> oldIds = old.stream().map(RouteDefinition::getRouteId).toList();
        List<Consumer> suspended = new ArrayList<>();
        try {
            stopTakingNewExchanges(oldIds, suspended);
            List<Endpoint> delegates = delegatesOf(oldIds);
            model.removeRouteDefinitions(old);
            // a master: endpoint's delegate (mqtt:channelsMqtt?…) belongs to no route: removed with the route's own
            // endpoints, it is not found stale, with the replaced beans, by the new routes
            for (Endpoint delegate : delegates) {
                camelContext.removeEndpoint(delegate);
            }
        } catch (Exception e) {
            // the routes keep running: their consumers take exchanges again
            suspended.forEach(ServiceHelper::resumeService);
            throw new InvalidRouteFileException(file, 0, "the running routes " + oldIds + " could not be stopped: " + e.getMessage());
        }
        try {
            PluginHelper.getRoutesLoader(camelContext).loadRoutes(resourceOf(file, text, old));
            // routes added to a running context wait for the (supervising) route controller: start them now
            for (RouteDefinition added : definedBy(file, model)) {
                if (!ServiceStatus.Started.equals(camelContext.getRouteController().getRouteStatus(added.getRouteId()))) {
                    camelContext.getRouteController().startRoute(added.getRouteId());
                }
            }
            return oldIds;
        } catch (Exception e) {
            try {
                model.removeRouteDefinitions(definedBy(file, model));
                model.addRouteDefinitions(old);
            } catch (Exception restoring) {
                LOG.error("Route file {}: the routes from before the edit could not be restored", file, restoring);
            }
            throw new InvalidRouteFileException(file, 0, "its routes failed to start, the previous ones run again: " + e.getMessage());
        }
    }

    private List<Endpoint> delegatesOf(List<String> routeIds) {
        List<Endpoint> delegates = new ArrayList<>();
        for (String routeId : routeIds) {
            Route route = camelContext.getRoute(routeId);
            if (route != null && route.getEndpoint() instanceof DelegateEndpoint delegating) {
                delegates.add(delegating.getEndpoint());
            }
        }
        return delegates;
    }

    /**
     * A direct: consumer defers its shutdown (it keeps taking exchanges while the route drains, for routes that depend on
     * it), so a route fed without pause never drains: the graceful stop found one exchange in flight at each of its
     * once-a-second checks and took seconds. Suspended first, it takes no more; a sender meanwhile gets "no consumer",
     * which the MQTT-SN listener answers with congestion, and the device retries on the new route. What is in flight
     * is then awaited here, in milliseconds, rather than at the graceful stop's checks a second apart.
     */
    private void stopTakingNewExchanges(List<String> routeIds, List<Consumer> suspended) throws InterruptedException {
        for (String routeId : routeIds) {
            Route route = camelContext.getRoute(routeId);
            if (route != null && route.getConsumer() instanceof Suspendable) {
                ServiceHelper.suspendService(route.getConsumer());
                suspended.add(route.getConsumer());
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
        while (routeIds.stream().anyMatch(id -> camelContext.getInflightRepository().size(id) > 0)
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    private void remove(Path file) {
        Model model = camelContext.getCamelContextExtension().getContextPlugin(Model.class);
        List<RouteDefinition> old = definedBy(file, model);
        rejected.remove(file);
        try {
            model.removeRouteDefinitions(old);
            LOG.info("Route file {} deleted: routes {} removed", file, old.stream().map(RouteDefinition::getRouteId).toList());
        } catch (Exception e) {
            LOG.error("Route file {} deleted, but its routes could not be removed", file, e);
        }
    }

    /** The same location as at start-up, so that the routes keep naming the file they come from. */
    private static Resource resourceOf(Path file, String text, List<RouteDefinition> old) {
        String location = old.stream().map(RouteDefinition::getResource).filter(resource -> resource != null)
                .map(Resource::getLocation).findFirst().orElse("file:" + file);
        return ResourceHelper.fromString(location, text);
    }

    private List<RouteDefinition> definedBy(Path file, Model model) {
        return model.getRouteDefinitions().stream().filter(route -> file.equals(sourceOf(route))).toList();
    }

    private Map<String, String> routesOfOtherFiles(Path file) {
        Map<String, String> others = new LinkedHashMap<>();
        Model model = camelContext.getCamelContextExtension().getContextPlugin(Model.class);
        for (RouteDefinition route : model.getRouteDefinitions()) {
            Path source = sourceOf(route);
            if (!file.equals(source)) {
                others.put(route.getRouteId(), source == null ? "the application" : source.toString());
            }
        }
        return others;
    }

    private static Path sourceOf(RouteDefinition route) {
        Resource resource = route.getResource();
        if (resource == null || resource.getLocation() == null || !resource.getLocation().startsWith("file:")) {
            return null;
        }
        return normalized(Path.of(resource.getLocation().substring("file:".length())));
    }

    /** Absolute, and relative to the working folder when under it, as operators name the files (routes/mqttsn/...). */
    private static Path normalized(Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        Path workingFolder = Path.of("").toAbsolutePath();
        return absolute.startsWith(workingFolder) ? workingFolder.relativize(absolute) : absolute;
    }

    /** Every *.camel.yaml of the folders with its text; symlinks (ConfigMap mounts) are followed. */
    private Map<Path, String> files() {
        Map<Path, String> files = new TreeMap<>();
        for (Path folder : folders) {
            try (Stream<Path> entries = Files.list(folder)) {
                for (Path file : entries.filter(path -> path.getFileName().toString().endsWith(SUFFIX)).toList()) {
                    try {
                        files.put(normalized(file), Files.readString(file, StandardCharsets.UTF_8));
                    } catch (NoSuchFileException e) {
                        // deleted between listing and reading: the next pass sees it gone
                    }
                }
            } catch (IOException e) {
                LOG.warn("Cannot read the route folder {}: {}", folder, e.toString());
            }
        }
        return files;
    }

    /**
     * DOWN while a route file's current content is rejected, with each file's line and reason. Not a readiness check:
     * the routes from before the edit keep running, so the gateway keeps taking traffic.
     */
    private final class RouteFilesHealth extends AbstractHealthCheck {
        RouteFilesHealth() {
            super("gateway", "route-files");
        }

        @Override
        public boolean isReadiness() {
            return false;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            if (rejected.isEmpty()) {
                builder.up();
                return;
            }
            rejected.values().forEach(invalid -> builder.detail(invalid.file().toString(),
                    (invalid.line() > 0 ? "line " + invalid.line() + ": " : "") + invalid.reason()));
            builder.message("route file edits rejected (the routes from before them run): "
                    + String.join("; ", rejected.values().stream().map(Throwable::getMessage).toList())).down();
        }
    }
}
