package org.iotgateway;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.camel.CamelContext;
import org.apache.camel.ExtendedStartupListener;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.support.service.ServiceSupport;
import org.iotgateway.onem2m.DeadlineNettyHttpComponent;
import org.iotgateway.reload.RouteFileReloader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before Camel loads routes: picks the route groups to run (one folder each under {@code gateway.routes-dir}): those
 * {@code gateway.groups} names, or else those switched on with {@code <group>.enabled}; and, where a group's service
 * address is not configured, starts the embedded stand-ins when they are on the class path (under
 * {@code mvn camel:run} and in tests; the packaged application does not carry them).
 */
final class GatewayStartup extends MainListenerSupport {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayStartup.class);
    private static final String DEV_SERVICES = "org.iotgateway.devservices.EmbeddedServices";

    @Override
    public void beforeConfigure(BaseMainSupport main) {
        PropertiesComponent properties = main.getCamelContext().getPropertiesComponent();
        EnvFiles.apply(properties);
        checkManagementPort(properties);
        // netty-http with a deadline for whole requests, which camel-netty-http lacks (the oneM2M binding's HTTP port)
        main.getCamelContext().addComponent("netty-http", new DeadlineNettyHttpComponent(
                Long.parseLong(properties.resolveProperty("onem2m.http-read-timeout-millis").orElse("10000"))));
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
        new RouteStarts(main.getCamelContext()).register();
        PropertiesComponent properties = main.getCamelContext().getPropertiesComponent();
        if (Boolean.parseBoolean(properties.resolveProperty("camel.management.enabled").orElse("false"))) {
            int port = Integer.parseInt(properties.resolveProperty("camel.management.port").orElse("9876"));
            try {
                // the management server is one of the context's services: its router exists once the context started
                main.getCamelContext().addStartupListener(new ExtendedStartupListener() {
                    @Override
                    public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
                    }

                    @Override
                    public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
                        HealthExposureGuard.install(context, port);
                    }
                });
            } catch (Exception e) {
                throw RuntimeCamelException.wrapRuntimeCamelException(e);
            }
        }
    }

    /**
     * The management port must be the gateway's: without it nothing tells whether the gateway works (health) or how
     * (metrics), so one that cannot be bound stops the start here, with the reason. Its server (Vert.x) would only log
     * the failure and run on without it.
     */
    private static void checkManagementPort(PropertiesComponent properties) {
        if (!Boolean.parseBoolean(properties.resolveProperty("camel.management.enabled").orElse("false"))) {
            return;
        }
        String host = properties.resolveProperty("camel.management.host").orElse("0.0.0.0");
        String port = properties.resolveProperty("camel.management.port").orElse("9876");
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(host, Integer.parseInt(port)));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("The management port " + host + ":" + port + " (gateway.management-port: health"
                    + " and metrics) cannot be bound: " + e.getMessage(), e);
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

    /**
     * The groups {@code gateway.groups} names (one Deployment per group runs the same image with its own), or else
     * every folder whose {@code <group>.enabled} is true. A named group without a folder stops the start.
     */
    private static List<String> enabledGroups(Path routesDir, PropertiesComponent properties) {
        List<String> folders;
        try (Stream<Path> entries = Files.list(routesDir)) {
            folders = entries.filter(Files::isDirectory).map(dir -> dir.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read the route folder " + routesDir.toAbsolutePath() + ": " + e, e);
        }
        String named = properties.resolveProperty("gateway.groups").orElse("").trim();
        if (named.isEmpty()) {
            return folders.stream()
                    .filter(group -> Boolean.parseBoolean(properties.resolveProperty(group + ".enabled").orElse("true")))
                    .toList();
        }
        List<String> groups = Stream.of(named.split(",")).map(String::trim).filter(group -> !group.isEmpty()).distinct().sorted().toList();
        List<String> unknown = groups.stream().filter(group -> !folders.contains(group)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalStateException("gateway.groups names " + unknown + ", which " + routesDir.toAbsolutePath()
                    + " has no folder for (it has " + folders + ")");
        }
        return groups;
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
