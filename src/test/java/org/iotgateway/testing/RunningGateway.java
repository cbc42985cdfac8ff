package org.iotgateway.testing;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;
import org.awaitility.Awaitility;
import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.GatewayMain;

/**
 * The whole application, started as users start it, with test overrides, against the services {@link TestServices}
 * selected.
 */
public final class RunningGateway implements AutoCloseable {

    private final Main main;
    private final int udpPort;

    private RunningGateway(Main main, int udpPort) {
        this.main = main;
        this.udpPort = udpPort;
    }

    /** Starts the application with only {@code group}'s routes (and only the services that group needs). */
    public static RunningGateway startOnly(String group, Map<String, String> overrides) throws Exception {
        Map<String, String> settings = new HashMap<>(overrides);
        settings.putIfAbsent("gateway.groups", group);
        return start(settings);
    }

    public static RunningGateway start(Map<String, String> overrides) throws Exception {
        int udpPort = freeUdpPort();
        Main main = GatewayMain.create();
        main.addOverrideProperty("mqttsn.port", Integer.toString(udpPort));
        main.addOverrideProperty("mqttsn.host", "127.0.0.1");
        main.addOverrideProperty("live.port", Integer.toString(freeTcpPort()));
        main.addOverrideProperty("live.host", "127.0.0.1");
        main.addOverrideProperty("onem2m.http-port", Integer.toString(freeTcpPort()));
        main.addOverrideProperty("onem2m.http-host", "127.0.0.1");
        main.addOverrideProperty("gateway.management-port", Integer.toString(freeTcpPort()));
        TestServices.addresses().forEach(main::addOverrideProperty);
        overrides.forEach(main::addOverrideProperty);
        try {
            main.start();
        } catch (Exception | Error e) {
            main.stop();
            throw e;
        }
        return new RunningGateway(main, udpPort);
    }

    public int udpPort() {
        return udpPort;
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    public int managementPort() {
        return Integer.parseInt(property("gateway.management-port"));
    }

    public String property(String key) {
        return context().getPropertiesComponent().resolveProperty(key).orElseThrow();
    }

    /** The Prometheus scrape of /observe/metrics. */
    public String metrics() throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + managementPort() + "/observe/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The body of /observe/health/ready: UP, or DOWN with each failing check's reason. */
    public String readiness() throws IOException, InterruptedException {
        return readiness(managementPort());
    }

    /** The readiness of a gateway on {@code managementPort}, started some other way (as a process). */
    public static String readiness(int managementPort) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + managementPort + "/observe/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** A route group's MQTT connection bean (liveMqtt, inverterMqtt, channelsMqtt, onem2mMqtt). */
    public MqttConnection mqtt(String beanName) {
        return context().getRegistry().lookupByNameAndType(beanName, MqttConnection.class);
    }

    /** Waits up to 30 s until that connection is connected with every subscription granted. */
    public MqttConnection awaitMqttReady(String beanName) {
        MqttConnection connection = mqtt(beanName);
        Awaitility.await().atMost(30, TimeUnit.SECONDS).alias(beanName + " ready").until(connection::isReady);
        return connection;
    }

    public String amqpUrl() {
        return property("mqttsn.amqp-connection-string");
    }

    public String valkeyUrl() {
        return property("mqttsn.valkey-connection-string");
    }

    @Override
    public void close() {
        main.stop();
    }

    public static int freeUdpPort() throws IOException {
        try (DatagramSocket socket = new DatagramSocket(0)) {
            return socket.getLocalPort();
        }
    }

    public static int freeTcpPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
