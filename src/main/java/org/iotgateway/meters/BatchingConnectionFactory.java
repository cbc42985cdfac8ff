package org.iotgateway.meters;

import java.io.IOException;
import java.net.Socket;

import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.impl.FrameHandler;
import com.rabbitmq.client.impl.FrameHandlerFactory;
import com.rabbitmq.client.impl.SocketFrameHandler;
import com.rabbitmq.client.impl.SocketFrameHandlerFactory;

/**
 * A connection factory whose connections let one thread, the batching thread, publish many messages with one socket
 * write. The Java client flushes its socket after every publish: a system call for the gateway and a small read for
 * RabbitMQ each time. On the batching thread those flushes are held back, and {@link BatchingSocket#flushBatch()} sends
 * the batch; every other thread (handshake, heartbeats, channel operations) flushes as usual.
 */
final class BatchingConnectionFactory extends ConnectionFactory {

    private final Thread batchingThread;
    private volatile BatchingSocket lastOpened;

    BatchingConnectionFactory(Thread batchingThread) {
        this.batchingThread = batchingThread;
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

    /** The socket's frame writer, with flushes held back on the batching thread. */
    final class BatchingSocket extends SocketFrameHandler {

        BatchingSocket(Socket socket) throws IOException {
            super(socket);
        }

        @Override
        public void flush() throws IOException {
            if (Thread.currentThread() != batchingThread) {
                super.flush();
            }
        }

        /** Writes what the batching thread has published since its last batch. */
        void flushBatch() throws IOException {
            super.flush();
        }
    }
}
