package org.iotgateway.mqtt;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;

import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * Sockets with TCP_NODELAY for the MQTT clients. Paho leaves Nagle's algorithm on, so a small packet written while an
 * earlier one is unacknowledged (a response PUBLISH after the PUBACK of its request) waits for the broker's delayed
 * ACK, about 40 ms on Linux, on every request/response exchange.
 */
public final class NoDelaySockets {

    private NoDelaySockets() {
    }

    public static SocketFactory plain() {
        return new SocketFactory() {
            @Override
            public Socket createSocket() throws IOException {
                return noDelay(new Socket());
            }

            @Override
            public Socket createSocket(String host, int port) throws IOException {
                return noDelay(new Socket(host, port));
            }

            @Override
            public Socket createSocket(String host, int port, InetAddress localAddress, int localPort) throws IOException {
                return noDelay(new Socket(host, port, localAddress, localPort));
            }

            @Override
            public Socket createSocket(InetAddress address, int port) throws IOException {
                return noDelay(new Socket(address, port));
            }

            @Override
            public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
                return noDelay(new Socket(address, port, localAddress, localPort));
            }
        };
    }

    static SSLSocketFactory tls(SSLSocketFactory delegate) {
        return new SSLSocketFactory() {
            @Override
            public String[] getDefaultCipherSuites() {
                return delegate.getDefaultCipherSuites();
            }

            @Override
            public String[] getSupportedCipherSuites() {
                return delegate.getSupportedCipherSuites();
            }

            @Override
            public Socket createSocket() throws IOException {
                return noDelay(delegate.createSocket());
            }

            @Override
            public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
                return noDelay(delegate.createSocket(socket, host, port, autoClose));
            }

            @Override
            public Socket createSocket(String host, int port) throws IOException {
                return noDelay(delegate.createSocket(host, port));
            }

            @Override
            public Socket createSocket(String host, int port, InetAddress localAddress, int localPort) throws IOException {
                return noDelay(delegate.createSocket(host, port, localAddress, localPort));
            }

            @Override
            public Socket createSocket(InetAddress address, int port) throws IOException {
                return noDelay(delegate.createSocket(address, port));
            }

            @Override
            public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
                return noDelay(delegate.createSocket(address, port, localAddress, localPort));
            }
        };
    }

    private static Socket noDelay(Socket socket) throws IOException {
        socket.setTcpNoDelay(true);
        return socket;
    }
}
