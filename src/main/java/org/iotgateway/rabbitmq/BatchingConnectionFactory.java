package org.iotgateway.rabbitmq;

import java.io.IOException;
import java.net.Socket;
import java.util.function.BooleanSupplier;

import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.impl.FrameHandler;
import com.rabbitmq.client.impl.FrameHandlerFactory;
import com.rabbitmq.client.impl.SocketFrameHandler;
import com.rabbitmq.client.impl.SocketFrameHandlerFactory;

/**
 * A connection factory whose connections let a thread publish many messages with one socket write. The Java client
 * flushes its socket after every publish: a system call for the gateway and a small read for RabbitMQ each time. While
 * {@code batching} is true for the current thread those flushes are held back, and {@link BatchingSocket#flushBatch()}
 * sends the batch; every other thread (handshake, heartbeats, channel operations) flushes as usual.
 */
final class BatchingConnectionFactory extends ConnectionFactory {

    private final BooleanSupplier batching;
    private volatile BatchingSocket lastOpened;

    BatchingConnectionFactory(BooleanSupplier batching) {
        this.batching = batching;
    }

    /** The frames of the connection this factory opened last. */
    BatchingSocket lastOpened() {
        return lastOpened;
    }

    @Override
    protected synchronized FrameHandlerFactory createFrameHandlerFactory() {
        return new SocketFrameHandlerFactory(getConnectionTimeout(), getSocketFactory(), getSocketConfigurator(), isSSL()) {
            @Override
            public FrameHandler create(Socket socket) throws IOException {
                BatchingSocket frames = new BatchingSocket(socket);
                lastOpened = frames;
                return frames;
            }
        };
    }

    /** The socket's frame writer, with flushes held back while the current thread is batching. */
    final class BatchingSocket extends SocketFrameHandler {

        private final int sendBufferSize;

        BatchingSocket(Socket socket) throws IOException {
            super(socket);
            this.sendBufferSize = socket.getSendBufferSize();
        }

        /** The kernel's send buffer for the socket when it was opened, in bytes. */
        int sendBufferSize() {
            return sendBufferSize;
        }

        @Override
        public void flush() throws IOException {
            if (!batching.getAsBoolean()) {
                super.flush();
            }
        }

        /** Writes what the batching thread has published since its last batch. */
        void flushBatch() throws IOException {
            super.flush();
        }
    }
}
