package org.iotgateway.meters;

import java.io.IOException;
import java.net.Socket;

import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.impl.FrameHandler;
import com.rabbitmq.client.impl.FrameHandlerFactory;
import com.rabbitmq.client.impl.SocketFrameHandler;
import com.rabbitmq.client.impl.SocketFrameHandlerFactory;

/**
 * A connection factory whose connections can send a batch of publishes with one socket write. The Java client flushes
 * its socket after every publish: a system call for the gateway and a small read for RabbitMQ each time. Between
 * {@link BatchingSocket#startBatch()} and {@link BatchingSocket#flushBatch()} the flushes of the thread that started
 * the batch are held back; every other thread (handshake, heartbeats, channel operations) flushes as usual.
 */
final class BatchingConnectionFactory extends ConnectionFactory {

    private volatile BatchingSocket lastOpened;

    /** The socket of the connection this factory opened last. */
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

    /** The socket's frame writer, with the flushes of the batching thread held back. */
    static final class BatchingSocket extends SocketFrameHandler {

        private volatile Thread batching;

        BatchingSocket(Socket socket) throws IOException {
            super(socket);
        }

        /** Holds back this thread's flushes until {@link #flushBatch()}. */
        void startBatch() {
            batching = Thread.currentThread();
        }

        /** Writes what the batch published. */
        void flushBatch() throws IOException {
            batching = null;
            super.flush();
        }

        @Override
        public void flush() throws IOException {
            if (Thread.currentThread() != batching) {
                super.flush();
            }
        }
    }
}
