package org.iotgateway.rabbitmq;

import org.apache.camel.AsyncCallback;
import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriPath;
import org.apache.camel.support.DefaultAsyncProducer;
import org.apache.camel.support.DefaultEndpoint;
import org.apache.camel.support.service.ServiceHelper;

/**
 * Publishes the message body to a RabbitMQ exchange and completes the exchange only when RabbitMQ has confirmed the
 * message, so that a route ending here acknowledges its source (an MQTT-SN PUBACK) exactly when RabbitMQ holds it.
 * <p>
 * Why not camel-spring-rabbitmq: its producer waits for each confirm on the route's thread (one thread per message in
 * flight) and sends each message with its own socket write. The readings path keeps thousands of readings in flight on
 * a few threads and sends what arrives together in one write; see {@link ConfirmingAmqpPublisher} and
 * docs/benchmarks.md. For a second exchange where that does not matter, spring-rabbitmq ships with the gateway.
 */
@UriEndpoint(firstVersion = "0.1.0", scheme = "rabbitmq-confirmed", title = "RabbitMQ with publisher confirms",
             syntax = "rabbitmq-confirmed:exchangeName", producerOnly = true, category = {Category.MESSAGING},
             headersClass = RabbitMqConfirmedConstants.class)
public class RabbitMqConfirmedEndpoint extends DefaultEndpoint {

    @UriPath(description = "The exchange to publish to; it must exist.")
    @Metadata(required = true)
    private String exchangeName;
    @UriParam(defaultValue = "amqp://guest:guest@localhost:5672//", secret = true,
              description = "The broker, as kombu writes it: amqp://user:password@host:5672/vhost (// for the default"
                            + " virtual host), or amqps:// for TLS.")
    private String connectionString = "amqp://guest:guest@localhost:5672//";
    @UriParam(defaultValue = "1",
              description = "AMQP channels to publish on. One is usually best: RabbitMQ confirms a busy channel in larger"
                            + " batches.")
    private int lanes = 1;
    @UriParam(defaultValue = "10000",
              description = "Milliseconds RabbitMQ may confirm nothing, while it is not blocking publishers, before the"
                            + " connection is reopened and what it carried fails (the source retries).")
    private long confirmTimeoutMillis = 10_000;
    @UriParam(defaultValue = "1000",
              description = "How often, in milliseconds, to probe for a memory or disk alarm raised before the connection"
                            + " was opened (RabbitMQ tells only connections that publish); 0 turns the probe off.")
    private long alarmProbeMillis = 1_000;

    private ConfirmingAmqpPublisher publisher;

    public RabbitMqConfirmedEndpoint(String uri, RabbitMqConfirmedComponent component) {
        super(uri, component);
    }

    @Override
    public Producer createProducer() {
        return new DefaultAsyncProducer(this) {
            @Override
            public boolean process(Exchange exchange, AsyncCallback callback) {
                return publisher.process(exchange, callback);
            }
        };
    }

    @Override
    public Consumer createConsumer(Processor processor) {
        throw new UnsupportedOperationException("rabbitmq-confirmed endpoints only publish");
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        publisher = new ConfirmingAmqpPublisher();
        publisher.setCamelContext(getCamelContext());
        publisher.setConnectionString(connectionString);
        publisher.setExchangeName(exchangeName);
        publisher.setLanes(lanes);
        publisher.setConfirmTimeoutMillis(confirmTimeoutMillis);
        publisher.setAlarmProbeMillis(alarmProbeMillis);
        ServiceHelper.startService(publisher);
    }

    @Override
    protected void doStop() throws Exception {
        ServiceHelper.stopService(publisher);
        super.doStop();
    }

    /** The publisher behind this endpoint, while it is started. */
    public ConfirmingAmqpPublisher publisher() {
        return publisher;
    }

    public String getExchangeName() {
        return exchangeName;
    }

    public void setExchangeName(String exchangeName) {
        this.exchangeName = exchangeName;
    }

    public String getConnectionString() {
        return connectionString;
    }

    public void setConnectionString(String connectionString) {
        this.connectionString = connectionString;
    }

    public int getLanes() {
        return lanes;
    }

    public void setLanes(int lanes) {
        this.lanes = lanes;
    }

    public long getConfirmTimeoutMillis() {
        return confirmTimeoutMillis;
    }

    public void setConfirmTimeoutMillis(long confirmTimeoutMillis) {
        this.confirmTimeoutMillis = confirmTimeoutMillis;
    }

    public long getAlarmProbeMillis() {
        return alarmProbeMillis;
    }

    public void setAlarmProbeMillis(long alarmProbeMillis) {
        this.alarmProbeMillis = alarmProbeMillis;
    }
}
