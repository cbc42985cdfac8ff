package org.iotgateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import org.apache.camel.CamelContext;

/** Where the gateway's meters go: the registry /observe/metrics scrapes, or Micrometer's global one outside Camel. */
public final class GatewayMeters {

    private GatewayMeters() {
    }

    public static MeterRegistry registry(CamelContext context) {
        MeterRegistry found = context != null ? context.getRegistry().findSingleByType(MeterRegistry.class) : null;
        return found != null ? found : Metrics.globalRegistry;
    }
}
