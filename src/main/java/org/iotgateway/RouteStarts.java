package org.iotgateway;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.CamelContext;
import org.apache.camel.FailedToStartRouteException;
import org.apache.camel.Route;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.spi.SupervisingRouteController;
import org.apache.camel.support.EventNotifierSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether every route has started. Routes start after the context, under the supervising route controller, which
 * retries a route that fails to start (a port in use, a broker away at boot) and says so at INFO only; each group's own
 * checks are registered as its routes start. So:
 * <ul>
 * <li>readiness is DOWN until the controller has tried to start every route, instead of UP for a moment with no check
 * to say otherwise;</li>
 * <li>readiness is DOWN, naming the route and why, while a route is being retried; the first failure of each streak is
 * logged at ERROR, and the start that ends it at INFO.</li>
 * </ul>
 */
final class RouteStarts extends EventNotifierSupport {

    private static final Logger LOG = LoggerFactory.getLogger(RouteStarts.class);

    private final CamelContext context;
    private final Map<String, String> failing = new ConcurrentHashMap<>();
    private volatile boolean settled;

    RouteStarts(CamelContext context) {
        this.context = context;
        setIgnoreExchangeEvents(true);
        setIgnoreCamelContextEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
    }

    /** Adds the readiness check and this notifier of route events to the context. */
    void register() {
        context.getManagementStrategy().addEventNotifier(this);
        new Check().register(context);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof CamelEvent.RouteRestartingFailureEvent || event instanceof CamelEvent.RouteStartedEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        String routeId = ((CamelEvent.RouteEvent) event).getRoute().getRouteId();
        if (event instanceof CamelEvent.RouteRestartingFailureEvent failure) {
            String reason = reason(failure.getCause());
            if (!reason.equals(failing.put(routeId, reason))) {
                LOG.error("Route {} cannot start: {}; {}", routeId, reason, failure.isExhausted() ? "giving up" : "retrying");
            }
        } else if (failing.remove(routeId) != null) {
            LOG.info("Route {} started", routeId);
        }
    }

    /** What went wrong, without Camel's wrappers (which repeat their cause's text behind its class name). */
    private static String reason(Throwable failure) {
        Throwable reason = failure;
        while ((reason instanceof RuntimeCamelException || reason instanceof FailedToStartRouteException)
                && reason.getCause() != null) {
            reason = reason.getCause();
        }
        return reason.getMessage() != null ? reason.getMessage() : reason.toString();
    }

    private final class Check extends ReadinessCheck {
        Check() {
            super("gateway", "routes-started");
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            Map<String, String> notStarted = new LinkedHashMap<>();
            boolean starting = !context.isStarted();
            if (context.getRouteController() instanceof SupervisingRouteController supervising) {
                starting |= supervising.isStartingRoutes();
                // a route that failed to start is the controller's to retry, not among the context's routes
                List<Route> retried = new ArrayList<>(supervising.getRestartingRoutes());
                retried.addAll(supervising.getExhaustedRoutes());
                for (Route route : retried) {
                    String routeId = route.getRouteId();
                    Throwable failure = supervising.getRestartException(routeId);
                    notStarted.put(routeId, failure != null ? reason(failure) : failing.getOrDefault(routeId, "failed to start"));
                }
            }
            settled = settled || !starting;
            if (!notStarted.isEmpty()) {
                builder.message("not started, retrying: " + notStarted).down();
            } else if (!settled) {
                builder.message("starting the route groups").down();
            } else {
                builder.up();
            }
        }
    }
}
