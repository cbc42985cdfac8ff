package org.iotgateway.live;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler.HandshakeComplete;
import io.netty.util.ReferenceCountUtil;
import org.iotgateway.mqtt.TopicFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One WebSocket connection after the handshake: joins the feed, and answers the browser's requests. */
final class ClientHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(ClientHandler.class);
    /** The name Netty's handshaker gives the frame decoder it adds. */
    private static final String WEBSOCKET_DECODER = "wsdecoder";

    private final LiveFeed feed;
    private FeedClient client;
    private FeedShard shard;

    ClientHandler(LiveFeed feed) {
        this.feed = feed;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (!(event instanceof HandshakeComplete)) {
            super.userEventTriggered(ctx, event);
            return;
        }
        List<String> requested = ctx.channel().attr(HttpGate.REQUESTED_FILTERS).get();
        List<TopicFilter> filters;
        try {
            filters = requested == null || requested.isEmpty() ? List.of(TopicFilter.parse("#"))
                    : requested.stream().map(TopicFilter::parse).toList();
        } catch (IllegalArgumentException e) {
            String reason = "invalid filter: " + e.getMessage();
            ctx.writeAndFlush(new TextWebSocketFrame(ClientRequest.reply(null, "error", reason)));
            ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.POLICY_VIOLATION, truncate(reason)));
            return;
        }
        // between the frame decoder and the protocol handler, which would close the connection at once
        ctx.pipeline().addAfter(WEBSOCKET_DECODER, "live-frame-violations", new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext violated, Throwable cause) {
                if (cause instanceof CorruptedWebSocketFrameException corrupted) {
                    closeWithReason(violated, corrupted.closeStatus(), corrupted.getMessage());
                } else {
                    violated.fireExceptionCaught(cause);
                }
            }
        });
        shard = feed.shardOf(ctx.channel().eventLoop());
        client = new FeedClient(ctx.channel(), shard, filters, feed.getClientQueueSize());
        shard.add(client);
        feed.connected();
        LOG.debug("Live feed: {} connected with filters {}", client.address, filters);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client != null && ctx.channel().isWritable()) {
            client.drain();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (client != null) {
            shard.remove(client);
            client = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
        try {
            if (client == null) {
                return;
            }
            if (message instanceof TextWebSocketFrame text && text.content().readableBytes() > feed.getMaxRequestBytes()) {
                feed.rejectedRequest();
                reply(ClientRequest.reply(null, "error", "a request of " + text.content().readableBytes()
                        + " bytes is over the limit of " + feed.getMaxRequestBytes() + " bytes (live.max-request-bytes)"));
            } else if (message instanceof TextWebSocketFrame text) {
                handle(text.text());
            } else if (message instanceof WebSocketFrame) {
                feed.rejectedRequest();
                reply(ClientRequest.reply(null, "error", "requests are JSON text frames"));
            }
        } finally {
            ReferenceCountUtil.release(message);
        }
    }

    private void handle(String text) {
        ClientRequest request;
        try {
            request = ClientRequest.parse(text);
        } catch (ClientRequest.Invalid invalid) {
            feed.rejectedRequest();
            reply(ClientRequest.reply(invalid.id(), "error", invalid.getMessage()));
            return;
        }
        if (request instanceof ClientRequest.Subscribe subscribe) {
            List<TopicFilter> before = List.copyOf(client.filters());
            List<String> added = new ArrayList<>();
            for (TopicFilter filter : subscribe.filters()) {
                if (!client.filters().contains(filter)) {
                    client.filters().add(filter);
                }
                added.add(filter.toString());
            }
            reply(ClientRequest.reply(subscribe.id(), "subscribed", added));
            shard.replayRetained(client, before);
        } else if (request instanceof ClientRequest.Unsubscribe unsubscribe) {
            List<String> removed = new ArrayList<>();
            for (TopicFilter filter : unsubscribe.filters()) {
                if (client.filters().remove(filter)) {
                    removed.add(filter.toString());
                }
            }
            reply(ClientRequest.reply(unsubscribe.id(), "unsubscribed", removed));
        } else if (request instanceof ClientRequest.Publish publish) {
            feed.publishFromClient(publish, this::replyFromAnyThread);
        } else if (request instanceof ClientRequest.Status status) {
            client.watchesStatus = status.watch();
            shard.sendStatus(client, status.id());
            client.flush();
        }
    }

    private void reply(String json) {
        client.offer(WebSocketFrames.text(client.channel.alloc(), json.getBytes(StandardCharsets.UTF_8)));
        client.flush();
    }

    private void replyFromAnyThread(String json) {
        FeedClient target = client;
        if (target == null) {
            return;
        }
        if (target.channel.eventLoop().inEventLoop()) {
            reply(json);
        } else {
            target.channel.eventLoop().execute(() -> {
                if (client == target) {
                    reply(json);
                }
            });
        }
    }

    /**
     * Ends a connection whose frames cannot be read on (one over the frame limit, a protocol error): the close frame
     * with the reason goes out, then the write side is shut while what the browser still sends is read and dropped,
     * so that it gets the reason, not a reset. The connection closes when the browser closes, or after 5 s.
     */
    private void closeWithReason(ChannelHandlerContext ctx, WebSocketCloseStatus status, String reason) {
        feed.rejectedRequest();
        if (client != null) {
            shard.remove(client);
            client = null;
        }
        LOG.info("Live feed: closing {}: {}", ctx.channel().remoteAddress(), reason);
        ctx.channel().writeAndFlush(new CloseWebSocketFrame(status, truncate(reason))).addListener(written -> {
            if (ctx.channel() instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
            }
            ctx.executor().schedule(() -> ctx.channel().close(), 5, TimeUnit.SECONDS);
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException && client != null) {
            // a request in fragments past the frame limit: the aggregator drops its remaining fragments unread
            feed.rejectedRequest();
            reply(ClientRequest.reply(null, "error", "a request of more than " + feed.maxFrameBytes()
                    + " bytes is over the limit of " + feed.getMaxRequestBytes() + " bytes (live.max-request-bytes)"));
            return;
        }
        LOG.debug("Live feed: closing {} after {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    private static String truncate(String reason) {
        // a close frame's reason is at most 123 bytes
        return reason.length() > 100 ? reason.substring(0, 100) : reason;
    }
}
