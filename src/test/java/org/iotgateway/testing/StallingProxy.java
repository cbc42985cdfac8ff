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
 * A TCP relay in front of the tests' RabbitMQ that can stop reading what the gateway sends, as a broker that has
 * fallen behind does: the gateway's socket buffers fill and its writes block. RabbitMQ's replies keep flowing.
 */
public final class StallingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final URI broker;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private boolean stalled;

    private StallingProxy(URI broker) throws IOException {
        this.broker = broker;
        server = new ServerSocket();
        // accepted sockets inherit it: the less the relay buffers, the sooner the gateway's writes block
        server.setReceiveBufferSize(4096);
        server.bind(new InetSocketAddress("127.0.0.1", 0));
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

    /** The broker's AMQP URL with the relay's address in place of RabbitMQ's. */
    public String amqpUrl() {
        return broker.getScheme() + "://" + broker.getRawUserInfo() + "@127.0.0.1:" + server.getLocalPort()
                + broker.getRawPath();
    }

    /** Stops reading what clients send; what is in flight stays in the kernel's buffers. */
    public void stall() {
        synchronized (gate) {
            stalled = true;
        }
    }

    public void resume() {
        synchronized (gate) {
            stalled = false;
            gate.notifyAll();
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(broker.getHost(), broker.getPort());
                sockets.add(client);
                sockets.add(upstream);
                relay(client.getInputStream(), upstream.getOutputStream(), true);
                relay(upstream.getInputStream(), client.getOutputStream(), false);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void relay(InputStream from, OutputStream to, boolean stallable) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[4096];
            try {
                while (true) {
                    if (stallable) {
                        awaitResume();
                    }
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

    private void awaitResume() throws InterruptedException {
        synchronized (gate) {
            while (stalled) {
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
