package org.iotgateway.live;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;

/**
 * HTTP in front of the feed: serves the dashboard, and lets a WebSocket handshake on the feed path through only from an
 * allowed origin and with the bearer token (when one is set). The filters of the query string ride along on the channel.
 * <p>
 * Browsers send any page's WebSocket handshake wherever the page says, with that page's {@code Origin}: without the
 * check, every web page a browser on the same network opens could read the feed. By default only the dashboard's own
 * origin (the request's {@code Host}) is allowed; a handshake without {@code Origin} does not come from a browser page
 * and is let through (such a client could send any Origin it liked).
 */
final class HttpGate extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final AttributeKey<List<String>> REQUESTED_FILTERS = AttributeKey.valueOf("live.requested-filters");

    /** A file of the dashboard, read once. */
    record Asset(byte[] body, String contentType) {
    }

    private final String feedPath;
    private final byte[] bearerToken;
    private final Map<String, Asset> dashboard;
    private final AllowedOrigins allowedOrigins;

    HttpGate(String feedPath, String bearerToken, AllowedOrigins allowedOrigins, Map<String, Asset> dashboard) {
        this.feedPath = feedPath;
        this.allowedOrigins = allowedOrigins;
        this.bearerToken = bearerToken == null || bearerToken.isBlank() ? null : bearerToken.getBytes(StandardCharsets.UTF_8);
        this.dashboard = dashboard;
    }

    /** The dashboard's files by path; the page learns where the feed is from its meta tag. */
    static Map<String, Asset> dashboard(String feedPath) throws IOException {
        String page = new String(resource("live/index.html"), StandardCharsets.UTF_8)
                .replace("<meta name=\"feed-path\" content=\"/ws\">", "<meta name=\"feed-path\" content=\"" + feedPath + "\">");
        Asset index = new Asset(page.getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8");
        return Map.of("/", index, "/index.html", index,
                "/app.js", new Asset(resource("live/app.js"), "text/javascript; charset=utf-8"),
                "/style.css", new Asset(resource("live/style.css"), "text/css; charset=utf-8"));
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = HttpGate.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("the dashboard file " + name + " is missing from the class path");
            }
            return in.readAllBytes();
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "malformed HTTP request");
            return;
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        String path = query.path();
        if (path.equals(feedPath)) {
            String origin = request.headers().get(HttpHeaderNames.ORIGIN);
            if (origin != null && !allowedOrigins.allows(origin, request.headers().get(HttpHeaderNames.HOST))) {
                respond(ctx, request, HttpResponseStatus.FORBIDDEN, "origin " + origin
                        + " may not open the live feed: add it to live.allowed-origins (by default only the dashboard's own)");
                return;
            }
            if (!authorized(request, query)) {
                FullHttpResponse response = text(HttpResponseStatus.UNAUTHORIZED,
                        "a bearer token is required: Authorization: Bearer <token>, or ?access_token=<token>");
                response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"live feed\"");
                send(ctx, request, response);
                return;
            }
            ctx.channel().attr(REQUESTED_FILTERS).set(query.parameters().getOrDefault("filter", List.of()));
            ctx.fireChannelRead(request.retain());
            return;
        }
        Asset asset = dashboard.get(path);
        if (asset == null) {
            respond(ctx, request, HttpResponseStatus.NOT_FOUND, "not found: " + path);
        } else if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
            respond(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET and HEAD");
        } else {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(asset.body()));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, asset.contentType());
            response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
            send(ctx, request, response);
        }
    }

    private boolean authorized(FullHttpRequest request, QueryStringDecoder query) {
        if (bearerToken == null) {
            return true;
        }
        String presented = null;
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            presented = header.substring(7).strip();
        } else if (query.parameters().containsKey("access_token")) {
            // browsers cannot set headers on a WebSocket handshake (RFC 6750 §2.3 allows the query parameter)
            presented = query.parameters().get("access_token").get(0);
        }
        return presented != null && MessageDigest.isEqual(bearerToken, presented.getBytes(StandardCharsets.UTF_8));
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status, String body) {
        send(ctx, request, text(status, body));
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body + "\n", StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        return response;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response) {
        HttpUtil.setContentLength(response, response.content().readableBytes());
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keepAlive);
        if (request.method().equals(HttpMethod.HEAD)) {
            response.content().clear();
        }
        var future = ctx.writeAndFlush(response);
        if (!keepAlive) {
            future.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
