package org.iotgateway.mqtt;

import java.util.List;

import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriPath;
import org.apache.camel.support.DefaultEndpoint;

/**
 * Subscribes to topic filters (consumer) or publishes (producer) over a shared MQTT 5 connection. Consumers get every
 * message as a byte array with its topic, QoS and retained flag; the connection re-subscribes after every reconnect.
 */
@UriEndpoint(firstVersion = "0.1.0", scheme = "mqtt", title = "MQTT 5 over a shared connection", syntax = "mqtt:connection",
             category = {Category.IOT, Category.MESSAGING}, headersClass = MqttConstants.class)
public class MqttEndpoint extends DefaultEndpoint {

    @UriPath(description = "The name of the MqttConnection bean (broker URL, credentials, client id) to use.")
    @Metadata(required = true)
    private final String connectionName;
    @UriParam(label = "consumer", defaultValue = "#",
              description = "Topic filters to subscribe to, separated by commas; a filter ending in @0, @1 or @2 gets that"
                            + " QoS instead of the endpoint's: sensor/#@1,device/+/status@2")
    private String filters = "#";
    @UriParam(label = "consumer",
              description = "Subscribe the filters as MQTT 5 shared subscriptions of this group ($share/<group>/<filter>):"
                            + " the instances that share it get each message once between them, for a route that runs on"
                            + " several instances; empty: plain subscriptions, every instance gets every message.")
    private String shareGroup;
    @UriParam(label = "consumer",
              description = "A bean that decides the subscriptions while the gateway runs (DynamicSubscriptions), in place"
                            + " of filters: #channelsWorker.")
    private DynamicSubscriptions subscriptions;
    @UriParam(label = "consumer", defaultValue = "false",
              description = "Run the route for every copy the broker sends of a message, one per matching filter (with"
                            + " its subscription identifiers in CamelMqttSubscriptionIds), for a route that hands messages"
                            + " on to receivers with filters of their own; false: once per message.")
    private boolean everyCopy;
    @UriParam(defaultValue = "1", enums = "0,1,2",
              description = "QoS of subscriptions without their own (consumer) and of published messages without a"
                            + " CamelMqttQos header (producer).")
    private int qos = 1;
    @UriParam(label = "producer",
              description = "The topic to publish to when the message has no CamelMqttTopic header.")
    private String topic;
    @UriParam(label = "producer", defaultValue = "false",
              description = "Ask the broker to retain published messages that have no CamelMqttRetained header.")
    private boolean retain;

    private final MqttConnection connection;

    MqttEndpoint(String uri, MqttComponent component, String connectionName, MqttConnection connection) {
        super(uri, component);
        this.connectionName = connectionName;
        this.connection = connection;
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        MqttConsumer consumer = new MqttConsumer(this, processor,
                subscriptions != null ? List.of() : Subscription.parseList(filters, qos, shareGroup));
        configureConsumer(consumer);
        return consumer;
    }

    @Override
    public Producer createProducer() {
        if (topic != null && !topic.isBlank()) {
            TopicFilter.checkTopicName(topic);
        }
        return new MqttProducer(this);
    }

    MqttConnection connection() {
        return connection;
    }

    public String getConnectionName() {
        return connectionName;
    }

    public String getFilters() {
        return filters;
    }

    public void setFilters(String filters) {
        this.filters = filters;
    }

    public String getShareGroup() {
        return shareGroup;
    }

    public void setShareGroup(String shareGroup) {
        this.shareGroup = shareGroup;
    }

    public DynamicSubscriptions getSubscriptions() {
        return subscriptions;
    }

    public void setSubscriptions(DynamicSubscriptions subscriptions) {
        this.subscriptions = subscriptions;
    }

    public boolean isEveryCopy() {
        return everyCopy;
    }

    public void setEveryCopy(boolean everyCopy) {
        this.everyCopy = everyCopy;
    }

    public int getQos() {
        return qos;
    }

    public void setQos(int qos) {
        this.qos = qos;
    }

    public String getTopic() {
        return topic;
    }

    public void setTopic(String topic) {
        this.topic = topic;
    }

    public boolean isRetain() {
        return retain;
    }

    public void setRetain(boolean retain) {
        this.retain = retain;
    }
}
