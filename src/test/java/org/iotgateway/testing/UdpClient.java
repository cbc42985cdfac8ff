package org.iotgateway.testing;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** A device: one UDP socket that sends datagrams to the gateway and reads its replies. */
public final class UdpClient implements AutoCloseable {

    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");
    private final DatagramSocket socket;
    private InetSocketAddress gateway;
    private volatile long strays;

    public UdpClient(int gatewayPort) throws IOException {
        this("127.0.0.1", gatewayPort);
    }

    /** A device at another loopback address (127.0.0.2, …): a different IP as the gateway sees it. */
    public UdpClient(String localAddress, int gatewayPort) throws IOException {
        this.socket = new DatagramSocket(new InetSocketAddress(localAddress, 0));
        this.gateway = new InetSocketAddress("127.0.0.1", gatewayPort);
    }

    /** A device at {@code localAddress} sending to a gateway (or a load balancer's address) elsewhere. */
    public UdpClient(String localAddress, InetSocketAddress gateway) throws IOException {
        this.socket = new DatagramSocket(new InetSocketAddress(localAddress, 0));
        this.gateway = gateway;
    }

    /**
     * A device at a loopback address of its own, 127.x.y.z at random: with the default keys ({@code client:{ip}}) it is
     * the only client of its address, whatever other tests left in the store.
     */
    public static UdpClient atOwnAddress(int gatewayPort) throws IOException {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        return new UdpClient("127.%d.%d.%d".formatted(random.nextInt(3, 250), random.nextInt(0, 250), random.nextInt(2, 250)),
                gatewayPort);
    }

    /**
     * From now on, sends to (and expects replies from) the gateway on another port: another instance sharing the store,
     * as a load balancer would pick it.
     */
    public UdpClient via(int gatewayPort) {
        this.gateway = new InetSocketAddress("127.0.0.1", gatewayPort);
        return this;
    }

    /** The device's IP address as the gateway sees it. */
    public String localAddress() {
        return socket.getLocalAddress().getHostAddress();
    }

    public int localPort() {
        return socket.getLocalPort();
    }

    public void send(byte[] datagram) throws IOException {
        socket.send(new DatagramPacket(datagram, datagram.length, gateway));
    }

    /** Which senders a receive takes a datagram from. */
    private enum From { GATEWAY, ANY, GATEWAY_DROPPING_OTHERS }

    /** The next reply as spaced hex, or null when none arrives within the timeout; one from elsewhere fails the test. */
    public String receive(int timeoutMillis) throws IOException {
        return receive(timeoutMillis, From.GATEWAY);
    }

    /**
     * The next datagram as spaced hex from any gateway instance (a message for the device leaves from the instance that
     * took it from RabbitMQ), or null when none arrives within the timeout.
     */
    public String receiveFromAny(int timeoutMillis) throws IOException {
        return receive(timeoutMillis, From.ANY);
    }

    /**
     * The next reply from the gateway's address as spaced hex, or null when none arrives within the timeout; datagrams
     * from any other address are dropped and counted ({@link #strayDatagrams()}), as a device's client drops them.
     */
    public String receiveIgnoringStrays(int timeoutMillis) throws IOException {
        return receive(timeoutMillis, From.GATEWAY_DROPPING_OTHERS);
    }

    /** Datagrams {@link #receiveIgnoringStrays} dropped because they came from another address than the gateway's. */
    public long strayDatagrams() {
        return strays;
    }

    private String receive(int timeoutMillis, From from) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        byte[] buffer = new byte[65536];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        for (long left = timeoutMillis; left > 0; left = (deadline - System.nanoTime()) / 1_000_000) {
            socket.setSoTimeout((int) left);
            try {
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                return null;
            }
            boolean fromGateway = packet.getSocketAddress().equals(gateway);
            if (fromGateway || from == From.ANY) {
                return HEX.formatHex(Arrays.copyOf(buffer, packet.getLength()));
            }
            if (from == From.GATEWAY) {
                throw new AssertionError("reply came from " + packet.getSocketAddress() + ", not the listening port " + gateway);
            }
            strays++;
        }
        return null;
    }

    /** Sends and returns the reply (hex), waiting up to 5 s. */
    public String exchange(byte[] datagram) throws IOException {
        send(datagram);
        return receive(5000);
    }

    /**
     * A new device's first reading: CONNECT as {@code clientId}, REGISTER {@code topic} (its first, id 1), one QoS 1
     * PUBLISH; each answer checked (CONNACK, REGACK and PUBACK accepted).
     */
    public void connectRegisterPublish(String clientId, String topic, String payload) throws IOException {
        assertThat(exchange(Vectors.message("04 04 01 00 3c", clientId))).as("CONNACK").isEqualTo("03 05 00");
        assertThat(exchange(Vectors.message("0a 00 00 00 01", topic))).as("REGACK").isEqualTo("07 0b 00 01 00 01 00");
        assertThat(exchange(Vectors.message("0c 20 00 01 00 02", payload))).as("PUBACK").isEqualTo("07 0d 00 01 00 02 00");
    }

    @Override
    public void close() {
        socket.close();
    }
}
