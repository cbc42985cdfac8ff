package org.iotgateway.rabbitmq;

import java.util.Map;

import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

/** The {@code rabbitmq-confirmed:exchange} component: publishes to a RabbitMQ exchange, done when RabbitMQ confirms. */
@Component("rabbitmq-confirmed")
public class RabbitMqConfirmedComponent extends DefaultComponent {

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        if (remaining.isBlank()) {
            throw new IllegalArgumentException("rabbitmq-confirmed needs an exchange name: rabbitmq-confirmed:<exchange>");
        }
        RabbitMqConfirmedEndpoint endpoint = new RabbitMqConfirmedEndpoint(uri, this);
        endpoint.setExchangeName(remaining);
        setProperties(endpoint, parameters);
        return endpoint;
    }
}
