package org.iotgateway.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A TCP relay in front of one of the tests' brokers that can stop reading what the gateway sends, as a broker that has
 * fallen behind does: the gateway's socket buffers fill and its writes block, while the broker's replies keep flowing.
 * Or it can stop passing on what the broker sends, as a gateway that has fallen behind does.
 */
public final class StallingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final URI broker;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private boolean stalled;
    private boolean deliveryStalled;
    private volatile boolean down;

    private StallingProxy(URI broker) throws IOException {
        this(broker, "127.0.0.1");
    }

    private StallingProxy(URI broker, String bindAddress) throws IOException {
        this.broker = broker;
        server = new ServerSocket();
        // accepted sockets inherit it: the less the relay buffers, the sooner the gateway's writes block
        server.setReceiveBufferSize(4096);
        server.bind(new InetSocketAddress(bindAddress, 0));
        Thread acceptor = new Thread(this::accept, "stalling-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A relay to the RabbitMQ the tests use; the test is skipped when that is the application's embedded one. */
    public static StallingProxy toRabbitMq() throws IOException {
        String amqp = TestServices.addresses().get("mqttsn.amqp-connection-string");
        assumeTrue(amqp != null, "no external RabbitMQ to put a relay in front of");
        return new StallingProxy(URI.create(amqp));
    }

    /** A relay to the MQTT broker the tests use; the test is skipped when that is the application's embedded one. */
    public static StallingProxy toMqttBroker() throws IOException {
        String mqtt = TestServices.addresses().get("live.mqtt-url");
        assumeTrue(mqtt != null, "no external MQTT broker to put a relay in front of");
        return new StallingProxy(URI.create(mqtt));
    }

    /** A relay to the Redis/Valkey the tests use; the test is skipped when that is the application's embedded one. */
    public static StallingProxy toValkey() throws IOException {
        String valkey = TestServices.addresses().get("mqttsn.valkey-connection-string");
        assumeTrue(valkey != null, "no external Redis/Valkey to put a relay in front of");
        return new StallingProxy(URI.create(valkey));
    }

    /**
     * A relay listening on another address of this host: the tests' servers listen on loopback, which a gateway in a
     * network namespace of its own reaches through this.
     */
    public static StallingProxy at(String bindAddress, String brokerUrl) throws IOException {
        return new StallingProxy(URI.create(brokerUrl), bindAddress);
    }

    /** The broker's URL (AMQP, MQTT, Valkey) with the relay's address in place of the broker's. */
    public String url() {
        return broker.getScheme() + "://" + (broker.getRawUserInfo() == null ? "" : broker.getRawUserInfo() + "@")
                + server.getInetAddress().getHostAddress() + ":" + server.getLocalPort() + (broker.getRawPath() == null ? "" : broker.getRawPath());
    }

    /** The broker's own URL, to reach it past the relay. */
    public String brokerUrl() {
        return broker.toString();
    }


    /**
     * The broker goes away as a restarting server does: the connections through the relay are closed, and new ones are
     * closed as soon as they are accepted, until {@link #up()}.
     */
    public void down() throws IOException {
        down = true;
        for (Socket socket : sockets) {
            socket.close();
        }
        sockets.clear();
    }

    /** The broker is back: connections are relayed again. */
    public void up() {
        down = false;
    }

    /** Stops reading what clients send; what is in flight stays in the kernel's buffers. */
    public void stall() {
        synchronized (gate) {
            stalled = true;
        }
    }

    /** Stops passing on what the broker sends; it waits in the kernel's buffers and then at the broker. */
    public void stallDelivery() {
        synchronized (gate) {
            deliveryStalled = true;
        }
    }

    public void resume() {
        synchronized (gate) {
            stalled = false;
            deliveryStalled = false;
            gate.notifyAll();
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (down) {
                    client.close();
                    continue;
                }
                Socket upstream;
                try {
                    upstream = new Socket(broker.getHost(), broker.getPort());
                } catch (IOException brokerDown) {
                    // as the broker itself would: the connection is refused, the next one may succeed
                    client.close();
                    continue;
                }
                sockets.add(client);
                sockets.add(upstream);
                relay(client.getInputStream(), upstream.getOutputStream(), true);
                relay(upstream.getInputStream(), client.getOutputStream(), false);
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Relays one direction: {@code fromClient} is what the client sends, else what the broker sends. */
    private void relay(InputStream from, OutputStream to, boolean fromClient) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[4096];
            try {
                while (true) {
                    awaitResume(fromClient);
                    int read = from.read(buffer);
                    if (read < 0) {
                        break;
                    }
                    to.write(buffer, 0, read);
                }
            } catch (IOException | InterruptedException e) {
                // a side closed: the relay ends
            }
            close(from, to);
        }, "stalling-proxy-relay");
        thread.setDaemon(true);
        thread.start();
    }

    private void awaitResume(boolean fromClient) throws InterruptedException {
        synchronized (gate) {
            while (fromClient ? stalled : deliveryStalled) {
                gate.wait();
            }
        }
    }

    private static void close(AutoCloseable... streams) {
        for (AutoCloseable stream : streams) {
            try {
                stream.close();
            } catch (Exception e) {
                // already closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        resume();
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
