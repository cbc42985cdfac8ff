package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriPath;
import org.apache.camel.support.DefaultEndpoint;
import org.iotgateway.mqttsn.protocol.TopicNames;

/**
 * An MQTT-SN 1.2 gateway on a UDP port. Answers CONNECT (with the will handshake), REGISTER, PUBLISH (QoS -1 to 2),
 * PUBREL, PINGREQ, DISCONNECT (and sleep), WILLTOPICUPD, WILLMSGUPD and SEARCHGW itself, keeps clients, topics, wills,
 * keep-alive deadlines and QoS 2 state in Redis/Valkey, and emits one exchange per accepted PUBLISH and per lost
 * client's will. The PUBACK for a QoS 1 PUBLISH (PUBREC for QoS 2) is sent when that exchange completes: return code
 * 0 when it succeeded, 1 (congestion) when it failed.
 * <p>
 * With a downlink queue, devices SUBSCRIBE (topic filters with wildcards, short names, predefined ids) and a
 * {@code to: mqttsn:host:port} step sends a message to every device subscribed to its topic through the gateway
 * listening on that port: QoS 1 and 2 retried until acknowledged, kept for sleeping clients until they wake.
 * <p>
 * A component of ours rather than camel-netty's UDP endpoint: the protocol answers on the same socket, and its
 * replies (the PUBACK when RabbitMQ confirms) leave from other threads straight on the socket's descriptor, which
 * camel-netty's request/reply model does not do (docs/benchmarks.md).
 */
@UriEndpoint(firstVersion = "0.1.0", scheme = "mqttsn", title = "MQTT-SN gateway", syntax = "mqttsn:host:port",
             category = {Category.IOT, Category.MESSAGING}, headersClass = MqttSnConstants.class)
public class MqttSnEndpoint extends DefaultEndpoint {

    @UriPath(description = "The address to listen on; 0.0.0.0 for every interface.")
    @Metadata(required = true)
    private String host;
    @UriPath(description = "The UDP port to listen on.")
    @Metadata(required = true)
    private int port;

    @UriParam(defaultValue = "valkey://localhost:6379/0", secret = true,
              description = "The Redis/Valkey holding clients and topics: redis://, rediss://, valkey:// or valkeys://.")
    private String valkeyConnectionString = "valkey://localhost:6379/0";
    @UriParam(defaultValue = "false",
              description = "Key clients by ip:port instead of ip; needed when devices share an address behind a NAT.")
    private boolean usePortNumberInClientStore;
    @UriParam(defaultValue = "true",
              description = "Renew the TTL of the client and its topics after a forwarded PUBLISH.")
    private boolean extendStoreTtlOnPublish = true;
    @UriParam(defaultValue = "604800", description = "TTL in seconds of the client and topic keys (7 days).")
    private long sessionTtlSeconds = 604800;
    @UriParam(defaultValue = "3600",
              description = "Renew a client's TTLs at most this often, in seconds, instead of on every PUBLISH.")
    private long ttlRefreshIntervalSeconds = 3600;
    @UriParam(description = "Predefined topic ids, as id=name pairs separated by commas: 1=alarms/fire,2=meters/all.")
    private String predefinedTopics;
    @UriParam(defaultValue = "255",
              description = "The longest topic name accepted at REGISTER, in UTF-8 bytes; longer ones are answered not"
                            + " supported (rc 3). 255 is the longest AMQP routing key.")
    private int maxTopicNameLength = 255;
    @UriParam(label = "security", defaultValue = "23",
              description = "The longest client id accepted at CONNECT, in characters; longer ones are answered not supported"
                            + " (rc 3). MQTT-SN 1.2 allows 1 to 23; a larger value accepts devices that send longer ids.")
    private int maxClientIdLength = 23;
    @UriParam(label = "security", defaultValue = "100",
              description = "Topic names one client may register; REGISTER beyond them is answered not supported (rc 3)."
                            + " With maxTopicNameLength this bounds a client's bytes in the store (100 x 255 bytes).")
    private int maxTopicsPerClient = 100;
    @UriParam(label = "security", defaultValue = "1000",
              description = "Client ids that may connect from one source address (ip) within the session TTL; a new one"
                            + " beyond them is answered congestion (rc 1). 0: no limit.")
    private int maxClientsPerAddress = 1000;
    @UriParam(label = "security", defaultValue = "10000000",
              description = "Keys in the store's database beyond which CONNECT of a client the gateway does not hold is"
                            + " answered congestion (rc 1); checked every second. 0: no limit.")
    private long maxStoreKeys = 10_000_000;
    @UriParam(label = "security",
              description = "Sources whose QoS -1 PUBLISH with a short topic name is accepted without a connection:"
                            + " addresses or CIDR blocks separated by commas (10.0.0.0/8,192.0.2.7), or * for any, as the"
                            + " Python gateway did. Empty: only predefined topic ids, and clients connected from that address.")
    private String qosMinusOneSources;
    @UriParam(defaultValue = "false",
              description = "Answer an accepted QoS 0 PUBLISH with PUBACK, as the Python gateway did (the specification sends none).")
    private boolean ackQos0;
    @UriParam(defaultValue = "1", description = "The gateway id sent in GWINFO in answer to SEARCHGW.")
    private int gatewayId = 1;
    @UriParam(defaultValue = "1000",
              description = "How often, in milliseconds, the instance looks for clients whose keep-alive or sleep expired"
                            + " (any instance's) and publishes their wills.")
    private long keepAliveCheckMillis = 1000;
    @UriParam(description = "Where to send ADVERTISE, as host:port (a broadcast or multicast address: 255.255.255.255:1883);"
                            + " empty sends none. Clients can find the gateway with SEARCHGW either way.")
    private String advertiseAddress;
    @UriParam(defaultValue = "900", description = "Seconds between two ADVERTISE messages, sent as their duration.")
    private int advertiseIntervalSeconds = 900;
    @UriParam(label = "consumer", defaultValue = "true",
              description = "Take SUBSCRIBE and deliver messages to devices (with amqpConnectionString and downlinkQueue set);"
                            + " false declines SUBSCRIBE (rc 3).")
    private boolean downlink = true;
    @UriParam(label = "consumer", secret = true,
              description = "RabbitMQ (kombu URL rules) on which the downlink queue is declared and bound to each topic filter"
                            + " devices subscribe to; empty: no downlink, SUBSCRIBE is declined (rc 3).")
    private String amqpConnectionString;
    @UriParam(label = "consumer", defaultValue = "mqtt-sn",
              description = "The topic exchange messages for devices come from: by default the one readings go to, so what"
                            + " one device publishes reaches the devices subscribed to its topic.")
    private String downlinkExchange = "mqtt-sn";
    @UriParam(label = "consumer", defaultValue = "mqttsn-downlink",
              description = "The durable queue the downlink route consumes, shared by every instance; bound to the"
                            + " exchange with each subscribed filter ('/' as '.', '+' as '*'); empty: no downlink.")
    private String downlinkQueue = "mqttsn-downlink";
    @UriParam(label = "consumer", defaultValue = "classic", enums = "classic,quorum",
              description = "The downlink queue's type when the gateway declares it: quorum on a RabbitMQ cluster, so that"
                            + " it outlives the node it was declared on. An existing queue keeps the type it has.")
    private String downlinkQueueType = "classic";
    @UriParam(label = "consumer", defaultValue = "10",
              description = "Seconds before a QoS 1 or 2 message a device has not acknowledged is sent again (DUP; PUBREL after PUBREC).")
    private int downlinkRetrySeconds = 10;
    @UriParam(label = "consumer", defaultValue = "5",
              description = "Attempts at a QoS 1 or 2 message before it is dropped (counted in mqttsn_downlink_total{result=dropped}).")
    private int downlinkMaxAttempts = 5;
    @UriParam(label = "consumer", defaultValue = "100",
              description = "Messages kept in the store for a sleeping client; beyond it the oldest go.")
    private int maxKeptPerSleepingClient = 100;
    @UriParam(label = "producer", defaultValue = "1",
              description = "QoS of a message for devices without a CamelMqttSnQos header (each device gets at most the QoS it subscribed with).")
    private int qos = 1;
    @UriParam(defaultValue = "1",
              description = "Threads reading the UDP port; more than one binds several sockets with SO_REUSEPORT (Linux epoll only).")
    private int ioThreads = 1;
    @UriParam(defaultValue = "32",
              description = "Threads that run the route for accepted PUBLISH messages, so that a step that waits (an HTTP"
                            + " call, a database) holds only its own device's readings. A step that waits W ms on every"
                            + " reading caps the rate at routeThreads / W. 0 runs the route on the socket's thread, with"
                            + " less CPU, for a route that never waits.")
    private int routeThreads = 32;
    @UriParam(defaultValue = "10000",
              description = "Readings in flight (received, not yet confirmed) before new ones are answered with congestion (rc 1).")
    private int maxInFlight = 10000;
    @UriParam(defaultValue = "1000",
              description = "Datagrams per second accepted from one source address (ip; ip:port with"
                            + " usePortNumberInClientStore), with bursts of as many; the rest are dropped. 0 turns the guard off.")
    private int floodLimit = 1000;
    @UriParam(defaultValue = "200000", description = "Clients kept in the near cache.")
    private long nearCacheSize = 200000;
    @UriParam(defaultValue = "67108864",
              description = "Bytes of topic names kept in the near cache (64 MiB), counted as the heap holds them.")
    private long nearCacheMaxTopicBytes = 64L * 1024 * 1024;
    @UriParam(defaultValue = "3600",
              description = "Seconds a near-cache entry lives; invalidations from the store usually evict it sooner.")
    private long nearCacheTtlSeconds = 3600;
    @UriParam(defaultValue = "2000", description = "Milliseconds to wait for the store before answering congestion.")
    private long storeTimeoutMillis = 2000;
    @UriParam(defaultValue = "4194304",
              description = "SO_RCVBUF of the UDP socket in bytes, to absorb bursts; the kernel caps it at net.core.rmem_max"
                            + " (the size it granted is logged).")
    private int receiveBufferSize = 4 * 1024 * 1024;
    @UriParam(defaultValue = "20",
              description = "On stop, seconds to wait for readings in flight to be confirmed before the socket closes.")
    private int drainTimeoutSeconds = 20;

    public MqttSnEndpoint(String uri, MqttSnComponent component) {
        super(uri, component);
    }

    @Override
    public Producer createProducer() {
        return new MqttSnProducer(this);
    }

    @Override
    public MqttSnComponent getComponent() {
        return (MqttSnComponent) super.getComponent();
    }

    /** Whether the consumer takes subscriptions and the producer can reach devices. */
    public boolean hasDownlink() {
        return downlink && amqpConnectionString != null && !amqpConnectionString.isBlank()
                && downlinkQueue != null && !downlinkQueue.isBlank();
    }

    public boolean isDownlink() {
        return downlink;
    }

    public void setDownlink(boolean downlink) {
        this.downlink = downlink;
    }

    public String getAmqpConnectionString() {
        return amqpConnectionString;
    }

    public void setAmqpConnectionString(String amqpConnectionString) {
        this.amqpConnectionString = amqpConnectionString;
    }

    public String getDownlinkExchange() {
        return downlinkExchange;
    }

    public void setDownlinkExchange(String downlinkExchange) {
        this.downlinkExchange = downlinkExchange;
    }

    public String getDownlinkQueue() {
        return downlinkQueue;
    }

    public void setDownlinkQueue(String downlinkQueue) {
        this.downlinkQueue = downlinkQueue;
    }

    public String getDownlinkQueueType() {
        return downlinkQueueType;
    }

    public void setDownlinkQueueType(String downlinkQueueType) {
        this.downlinkQueueType = downlinkQueueType;
    }

    public int getDownlinkRetrySeconds() {
        return downlinkRetrySeconds;
    }

    public void setDownlinkRetrySeconds(int downlinkRetrySeconds) {
        this.downlinkRetrySeconds = downlinkRetrySeconds;
    }

    public int getDownlinkMaxAttempts() {
        return downlinkMaxAttempts;
    }

    public void setDownlinkMaxAttempts(int downlinkMaxAttempts) {
        this.downlinkMaxAttempts = downlinkMaxAttempts;
    }

    public int getMaxKeptPerSleepingClient() {
        return maxKeptPerSleepingClient;
    }

    public void setMaxKeptPerSleepingClient(int maxKeptPerSleepingClient) {
        this.maxKeptPerSleepingClient = maxKeptPerSleepingClient;
    }

    public int getQos() {
        return qos;
    }

    public void setQos(int qos) {
        this.qos = qos;
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        MqttSnConsumer consumer = new MqttSnConsumer(this, processor);
        configureConsumer(consumer);
        return consumer;
    }

    /** The predefined topic table, parsed from {@link #getPredefinedTopics()}. */
    public Map<Integer, String> predefinedTopicTable() {
        if (predefinedTopics == null || predefinedTopics.isBlank()) {
            return Collections.emptyMap();
        }
        Map<Integer, String> table = new HashMap<>();
        for (String pair : predefinedTopics.split(",")) {
            int equals = pair.indexOf('=');
            if (equals < 1) {
                throw new IllegalArgumentException("predefinedTopics: expected id=name, got '" + pair.trim() + "'");
            }
            int id = Integer.parseInt(pair.substring(0, equals).trim());
            if (id < 1 || id > 0xFFFE) {
                throw new IllegalArgumentException("predefinedTopics: id " + id + " is outside 1..65534");
            }
            String name = pair.substring(equals + 1).trim();
            String refusal = TopicNames.refusal(name, maxTopicNameLength);
            if (refusal != null) {
                throw new IllegalArgumentException("predefinedTopics: id " + id + ": " + refusal);
            }
            table.put(id, name);
        }
        return Map.copyOf(table);
    }

    /** Where ADVERTISE goes, or null when {@link #getAdvertiseAddress()} is empty. */
    /** The sources named by {@link #getQosMinusOneSources()}. */
    SourceRanges qosMinusOneSourceRanges() {
        return SourceRanges.parse(qosMinusOneSources, "qosMinusOneSources");
    }

    public InetSocketAddress advertiseSocketAddress() {
        if (advertiseAddress == null || advertiseAddress.isBlank()) {
            return null;
        }
        int colon = advertiseAddress.lastIndexOf(':');
        if (colon < 1) {
            throw new IllegalArgumentException("advertiseAddress: expected host:port, got '" + advertiseAddress + "'");
        }
        return new InetSocketAddress(advertiseAddress.substring(0, colon).trim(),
                Integer.parseInt(advertiseAddress.substring(colon + 1).trim()));
    }

    public long getKeepAliveCheckMillis() {
        return keepAliveCheckMillis;
    }

    public void setKeepAliveCheckMillis(long keepAliveCheckMillis) {
        this.keepAliveCheckMillis = keepAliveCheckMillis;
    }

    public String getAdvertiseAddress() {
        return advertiseAddress;
    }

    public void setAdvertiseAddress(String advertiseAddress) {
        this.advertiseAddress = advertiseAddress;
    }

    public int getAdvertiseIntervalSeconds() {
        return advertiseIntervalSeconds;
    }

    public void setAdvertiseIntervalSeconds(int advertiseIntervalSeconds) {
        this.advertiseIntervalSeconds = advertiseIntervalSeconds;
    }

    public int getMaxClientIdLength() {
        return maxClientIdLength;
    }

    public void setMaxClientIdLength(int maxClientIdLength) {
        this.maxClientIdLength = maxClientIdLength;
    }

    public int getMaxTopicsPerClient() {
        return maxTopicsPerClient;
    }

    public void setMaxTopicsPerClient(int maxTopicsPerClient) {
        this.maxTopicsPerClient = maxTopicsPerClient;
    }

    public int getMaxClientsPerAddress() {
        return maxClientsPerAddress;
    }

    public void setMaxClientsPerAddress(int maxClientsPerAddress) {
        this.maxClientsPerAddress = maxClientsPerAddress;
    }

    public long getMaxStoreKeys() {
        return maxStoreKeys;
    }

    public void setMaxStoreKeys(long maxStoreKeys) {
        this.maxStoreKeys = maxStoreKeys;
    }

    public String getQosMinusOneSources() {
        return qosMinusOneSources;
    }

    public void setQosMinusOneSources(String qosMinusOneSources) {
        this.qosMinusOneSources = qosMinusOneSources;
    }

    public long getNearCacheMaxTopicBytes() {
        return nearCacheMaxTopicBytes;
    }

    public void setNearCacheMaxTopicBytes(long nearCacheMaxTopicBytes) {
        this.nearCacheMaxTopicBytes = nearCacheMaxTopicBytes;
    }

    public int getMaxTopicNameLength() {
        return maxTopicNameLength;
    }

    public void setMaxTopicNameLength(int maxTopicNameLength) {
        this.maxTopicNameLength = maxTopicNameLength;
    }

    public String getHost() {
        return host;
    }

    public void setHost(String host) {
        this.host = host;
    }

    public int getPort() {
        return port;
    }

    public void setPort(int port) {
        this.port = port;
    }

    public String getValkeyConnectionString() {
        return valkeyConnectionString;
    }

    public void setValkeyConnectionString(String valkeyConnectionString) {
        this.valkeyConnectionString = valkeyConnectionString;
    }

    public boolean isUsePortNumberInClientStore() {
        return usePortNumberInClientStore;
    }

    public void setUsePortNumberInClientStore(boolean usePortNumberInClientStore) {
        this.usePortNumberInClientStore = usePortNumberInClientStore;
    }

    public boolean isExtendStoreTtlOnPublish() {
        return extendStoreTtlOnPublish;
    }

    public void setExtendStoreTtlOnPublish(boolean extendStoreTtlOnPublish) {
        this.extendStoreTtlOnPublish = extendStoreTtlOnPublish;
    }

    public long getSessionTtlSeconds() {
        return sessionTtlSeconds;
    }

    public void setSessionTtlSeconds(long sessionTtlSeconds) {
        this.sessionTtlSeconds = sessionTtlSeconds;
    }

    public long getTtlRefreshIntervalSeconds() {
        return ttlRefreshIntervalSeconds;
    }

    public void setTtlRefreshIntervalSeconds(long ttlRefreshIntervalSeconds) {
        this.ttlRefreshIntervalSeconds = ttlRefreshIntervalSeconds;
    }

    public String getPredefinedTopics() {
        return predefinedTopics;
    }

    public void setPredefinedTopics(String predefinedTopics) {
        this.predefinedTopics = predefinedTopics;
    }

    public boolean isAckQos0() {
        return ackQos0;
    }

    public void setAckQos0(boolean ackQos0) {
        this.ackQos0 = ackQos0;
    }

    public int getGatewayId() {
        return gatewayId;
    }

    public void setGatewayId(int gatewayId) {
        this.gatewayId = gatewayId;
    }

    public int getIoThreads() {
        return ioThreads;
    }

    public void setIoThreads(int ioThreads) {
        this.ioThreads = ioThreads;
    }

    public int getRouteThreads() {
        return routeThreads;
    }

    public void setRouteThreads(int routeThreads) {
        this.routeThreads = routeThreads;
    }

    public int getMaxInFlight() {
        return maxInFlight;
    }

    public void setMaxInFlight(int maxInFlight) {
        this.maxInFlight = maxInFlight;
    }

    public int getFloodLimit() {
        return floodLimit;
    }

    public void setFloodLimit(int floodLimit) {
        this.floodLimit = floodLimit;
    }

    public long getNearCacheSize() {
        return nearCacheSize;
    }

    public void setNearCacheSize(long nearCacheSize) {
        this.nearCacheSize = nearCacheSize;
    }

    public long getNearCacheTtlSeconds() {
        return nearCacheTtlSeconds;
    }

    public void setNearCacheTtlSeconds(long nearCacheTtlSeconds) {
        this.nearCacheTtlSeconds = nearCacheTtlSeconds;
    }

    public long getStoreTimeoutMillis() {
        return storeTimeoutMillis;
    }

    public void setStoreTimeoutMillis(long storeTimeoutMillis) {
        this.storeTimeoutMillis = storeTimeoutMillis;
    }

    public int getReceiveBufferSize() {
        return receiveBufferSize;
    }

    public void setReceiveBufferSize(int receiveBufferSize) {
        this.receiveBufferSize = receiveBufferSize;
    }

    public int getDrainTimeoutSeconds() {
        return drainTimeoutSeconds;
    }

    public void setDrainTimeoutSeconds(int drainTimeoutSeconds) {
        this.drainTimeoutSeconds = drainTimeoutSeconds;
    }
}
