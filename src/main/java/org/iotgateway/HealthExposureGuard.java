package org.iotgateway;

import io.vertx.core.MultiMap;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the health endpoints to the configured exposure level ({@code camel.health.exposure-level}). Camel's management
 * server lets any caller raise it per request with {@code ?exposureLevel=full}, and ask for stack traces and each
 * check's data ({@code stackTrace}, {@code data}), which list route ids, connection names and error details; a request
 * with any of these parameters is routed again without its query string.
 */
final class HealthExposureGuard {

    private static final Logger LOG = LoggerFactory.getLogger(HealthExposureGuard.class);
    private static final String[] OVERRIDES = {"exposureLevel", "stackTrace", "data"};

    private HealthExposureGuard() {
    }

    /** Installs the guard in front of every handler of the management server on that port. */
    static void install(CamelContext context, int managementPort) {
        VertxPlatformHttpRouter router = VertxPlatformHttpRouter.lookup(context, VertxPlatformHttpRouter.getRouterNameFromPort(managementPort));
        if (router == null) {
            LOG.warn("No management server on port {}: health exposure not guarded", managementPort);
            return;
        }
        router.route().order(Integer.MIN_VALUE).handler(request -> {
            MultiMap params = request.request().params();
            for (String override : OVERRIDES) {
                if (params.contains(override)) {
                    // routed again without its query: the health handler reads the request's own parameters
                    request.reroute(request.request().path());
                    return;
                }
            }
            request.next();
        });
    }
}
