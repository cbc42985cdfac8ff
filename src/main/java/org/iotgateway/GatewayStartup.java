package org.iotgateway;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.camel.CamelContext;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.ServiceStatus;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.RouteController;
import org.apache.camel.spi.SupervisingRouteController;
import org.apache.camel.support.service.ServiceSupport;
import org.iotgateway.reload.RouteFileReloader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before Camel loads routes: picks the route groups that are switched on ({@code <group>.enabled}, one folder each
 * under {@code gateway.routes-dir}) and, where a group's service address is not configured, starts the embedded
 * stand-ins when they are on the class path (under {@code mvn camel:run} and in tests; the packaged application does
 * not carry them).
 */
final class GatewayStartup extends MainListenerSupport {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayStartup.class);
    private static final String DEV_SERVICES = "org.iotgateway.devservices.EmbeddedServices";

    @Override
    public void beforeConfigure(BaseMainSupport main) {
        PropertiesComponent properties = main.getCamelContext().getPropertiesComponent();
        Path routesDir = Path.of(properties.resolveProperty("gateway.routes-dir").orElse("routes"));
        List<String> groups = enabledGroups(routesDir, properties);
        if (groups.isEmpty()) {
            LOG.warn("No route group is enabled under {}", routesDir.toAbsolutePath());
            main.configure().setRoutesCollectorEnabled(false);
        } else {
            LOG.info("Route groups enabled: {}", String.join(", ", groups));
            main.configure().setRoutesIncludePattern(groups.stream()
                    .map(group -> "file:" + routesDir.resolve(group).toString().replace('\\', '/') + "/*" + RouteFileReloader.SUFFIX)
                    .collect(Collectors.joining(",")));
        }
        watchRouteFiles(main, properties, groups.stream().map(routesDir::resolve).toList());
        AutoCloseable devServices = startDevServices(properties, groups);
        if (devServices != null) {
            // a service of the context stops with it, after the routes, however the context is stopped
            try {
                main.getCamelContext().addService(new ServiceSupport() {
                    @Override
                    protected void doStop() throws Exception {
                        devServices.close();
                    }
                }, true, true);
            } catch (Exception e) {
                throw RuntimeCamelException.wrapRuntimeCamelException(e);
            }
        }
    }

    @Override
    public void afterConfigure(BaseMainSupport main) {
        new StartupGate(main.getCamelContext()).register(main.getCamelContext());
    }

    /**
     * Readiness DOWN until the route controller has started every route (or handed it to its retries): routes start
     * after the context, and each group's own checks are registered as its routes start, so without this gate
     * readiness would be UP for a moment with no check to say otherwise, then DOWN, then UP. Once open it stays open.
     */
    static final class StartupGate extends ReadinessCheck {
        private final CamelContext context;
        private volatile boolean open;

        StartupGate(CamelContext context) {
            super("gateway", "startup");
            this.context = context;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            open = open || context.isStarted() && routesSettled();
            if (open) {
                builder.up();
            } else {
                builder.message("starting the route groups").down();
            }
        }

        private boolean routesSettled() {
            RouteController routes = context.getRouteController();
            Set<String> retried = new HashSet<>();
            if (routes instanceof SupervisingRouteController supervising) {
                if (supervising.isStartingRoutes()) {
                    return false;
                }
                supervising.getRestartingRoutes().forEach(route -> retried.add(route.getRouteId()));
                supervising.getExhaustedRoutes().forEach(route -> retried.add(route.getRouteId()));
            }
            return context.getRoutes().stream().allMatch(route -> retried.contains(route.getRouteId())
                    || routes.getRouteStatus(route.getRouteId()) == ServiceStatus.Started);
        }
    }

    /** Edits of the groups' route files are applied while running, unless gateway.routes-reload-enabled=false. */
    private static void watchRouteFiles(BaseMainSupport main, PropertiesComponent properties, List<Path> folders) {
        if (folders.isEmpty() || !Boolean.parseBoolean(properties.resolveProperty("gateway.routes-reload-enabled").orElse("true"))) {
            return;
        }
        long interval = Long.parseLong(properties.resolveProperty("gateway.routes-reload-interval-millis").orElse("1000"));
        try {
            main.getCamelContext().addService(new RouteFileReloader(main.getCamelContext(), folders, interval), true, true);
        } catch (Exception e) {
            throw RuntimeCamelException.wrapRuntimeCamelException(e);
        }
    }

    private static List<String> enabledGroups(Path routesDir, PropertiesComponent properties) {
        try (Stream<Path> entries = Files.list(routesDir)) {
            return entries.filter(Files::isDirectory)
                    .map(dir -> dir.getFileName().toString())
                    .filter(group -> Boolean.parseBoolean(properties.resolveProperty(group + ".enabled").orElse("true")))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read the route folder " + routesDir.toAbsolutePath() + ": " + e, e);
        }
    }

    private static AutoCloseable startDevServices(PropertiesComponent properties, List<String> groups) {
        DevServiceNeeds needs = DevServiceNeeds.of(properties, groups);
        if (!needs.any()) {
            return null;
        }
        try {
            Class<?> type = Class.forName(DEV_SERVICES);
            return (AutoCloseable) type.getConstructor(DevServiceNeeds.class).newInstance(needs);
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            needs.useDefaults();
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Embedded services failed to start: " + e.getCause(), e.getCause());
        }
    }
}
