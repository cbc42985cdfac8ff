package org.iotgateway.testing;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.util.Map;

import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;
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

    public static RunningGateway start(Map<String, String> overrides) throws Exception {
        int udpPort = freeUdpPort();
        Main main = GatewayMain.create();
        main.addOverrideProperty("mqttsn.port", Integer.toString(udpPort));
        main.addOverrideProperty("mqttsn.host", "127.0.0.1");
        main.addOverrideProperty("gateway.management-port", Integer.toString(freeTcpPort()));
        TestServices.addresses().forEach(main::addOverrideProperty);
        overrides.forEach(main::addOverrideProperty);
        main.start();
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
