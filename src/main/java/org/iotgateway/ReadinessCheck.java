package org.iotgateway;

import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * A readiness-only health check of a connection or service the gateway depends on; shown with its message on
 * {@code /observe/health/ready} while DOWN. Registered by its owner when it starts and removed when it stops.
 */
public abstract class ReadinessCheck extends AbstractHealthCheck {

    protected ReadinessCheck(String group, String id) {
        super(group, id);
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    /** Adds this check to the context's health registry (none without a context, as in unit tests). */
    public void register(CamelContext camelContext) {
        HealthCheckRegistry health = camelContext != null ? HealthCheckRegistry.get(camelContext) : null;
        if (health != null) {
            health.register(this);
        }
    }

    public void unregister(CamelContext camelContext) {
        HealthCheckRegistry health = camelContext != null ? HealthCheckRegistry.get(camelContext) : null;
        if (health != null) {
            health.unregister(this);
        }
    }
}
