package org.iotgateway.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.util.FileUtil;

/** A headless Chromium driven over the Chrome DevTools Protocol: open a page, run JavaScript, take a screenshot. */
public final class HeadlessChromium implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");

    private final Process process;
    private final Path profile;
    private final WebSocket page;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    private HeadlessChromium(Process process, Path profile, String pageSocket) {
        this.process = process;
        this.profile = profile;
        this.page = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create(pageSocket), new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    try {
                        JsonNode message = JSON.readTree(partial.toString());
                        if (message.has("id")) {
                            CompletableFuture<JsonNode> reply = pending.remove(message.get("id").asInt());
                            if (reply != null) {
                                reply.complete(message);
                            }
                        }
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                    partial.setLength(0);
                }
                socket.request(1);
                return null;
            }
        }).join();
    }

    public static boolean available() {
        return Files.isExecutable(Path.of("/usr/bin/chromium"));
    }

    public static HeadlessChromium start() throws Exception {
        Path profile = Files.createTempDirectory("chromium-profile");
        ProcessBuilder command = new ProcessBuilder("/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--window-size=1280,900", "--remote-debugging-port=0",
                "--user-data-dir=" + profile, "about:blank").redirectErrorStream(true);
        // its singleton socket and shared memory files, which it leaves behind when stopped, go with the profile
        command.environment().put("TMPDIR", profile.toString());
        Process process = command.start();
        BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String browserSocket = null;
        for (String line; (line = output.readLine()) != null; ) {
            Matcher matcher = DEVTOOLS.matcher(line);
            if (matcher.find()) {
                browserSocket = matcher.group(1);
                break;
            }
        }
        if (browserSocket == null) {
            throw new IllegalStateException("Chromium did not start its DevTools endpoint");
        }
        Thread drain = new Thread(() -> output.lines().forEach(line -> { }), "chromium-output");
        drain.setDaemon(true);
        drain.start();
        URI browser = URI.create(browserSocket);
        String list = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + browser.getHost() + ":" + browser.getPort() + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (JsonNode target : JSON.readTree(list)) {
            if ("page".equals(target.get("type").asText())) {
                return new HeadlessChromium(process, profile, target.get("webSocketDebuggerUrl").asText());
            }
        }
        process.destroy();
        throw new IllegalStateException("Chromium has no page target: " + list);
    }

    private JsonNode call(String method, ObjectNode params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        ObjectNode request = JSON.createObjectNode().put("id", id).put("method", method);
        request.set("params", params);
        page.sendText(request.toString(), true).join();
        JsonNode answer = reply.get(30, TimeUnit.SECONDS);
        if (answer.has("error")) {
            throw new IllegalStateException(method + ": " + answer.get("error"));
        }
        return answer.get("result");
    }

    public void open(String url) throws Exception {
        call("Page.navigate", JSON.createObjectNode().put("url", url));
    }

    /** The value of a JavaScript expression, as JSON. */
    public JsonNode evaluate(String expression) throws Exception {
        JsonNode result = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true).put("awaitPromise", true));
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException(expression + ": " + result.get("exceptionDetails"));
        }
        return result.get("result").get("value");
    }

    /** Lays the page out at {@code width} × {@code height} CSS pixels, as a phone ({@code mobile}) or a desktop window. */
    public void viewport(int width, int height, boolean mobile) throws Exception {
        call("Emulation.setDeviceMetricsOverride", JSON.createObjectNode().put("width", width).put("height", height)
                .put("deviceScaleFactor", 1).put("mobile", mobile));
    }

    /**
     * Stops the page's JavaScript (as at a breakpoint) until {@link #resumeScripts()}: the page stops taking what its
     * WebSocket receives, and Chromium stops reading the socket, as with a page too busy to keep up.
     */
    public void pauseScripts() throws Exception {
        call("Debugger.enable", JSON.createObjectNode());
        call("Debugger.pause", JSON.createObjectNode());
    }

    public void resumeScripts() throws Exception {
        call("Debugger.resume", JSON.createObjectNode());
        call("Debugger.disable", JSON.createObjectNode());
    }

    /** Presses and releases a key (Home, End, ArrowUp, ArrowDown, Enter, Escape, Tab) in the focused element. */
    public void key(String key) throws Exception {
        int code = switch (key) {
            case "Tab" -> 9;
            case "Enter" -> 13;
            case "Escape" -> 27;
            case "End" -> 35;
            case "Home" -> 36;
            case "ArrowUp" -> 38;
            case "ArrowDown" -> 40;
            default -> throw new IllegalArgumentException("no key code for " + key);
        };
        for (String type : new String[] {"rawKeyDown", "keyUp"}) {
            call("Input.dispatchKeyEvent", JSON.createObjectNode().put("type", type).put("key", key).put("code", key)
                    .put("windowsVirtualKeyCode", code).put("nativeVirtualKeyCode", code));
        }
    }

    /** The colour scheme the page's {@code prefers-color-scheme} sees: "light" or "dark". */
    public void colorScheme(String scheme) throws Exception {
        ObjectNode params = JSON.createObjectNode();
        params.putArray("features").addObject().put("name", "prefers-color-scheme").put("value", scheme);
        call("Emulation.setEmulatedMedia", params);
    }

    /** Chromium's performance counters of the page (JSHeapUsedSize, TaskDuration, ScriptDuration, …) by name. */
    public Map<String, Double> performanceMetrics() throws Exception {
        call("Performance.enable", JSON.createObjectNode());
        Map<String, Double> metrics = new java.util.TreeMap<>();
        for (JsonNode metric : call("Performance.getMetrics", JSON.createObjectNode()).get("metrics")) {
            metrics.put(metric.get("name").asText(), metric.get("value").asDouble());
        }
        return metrics;
    }

    /** The browser's processes (the browser and its renderers, GPU and utility helpers). */
    public List<ProcessHandle> processes() {
        return Stream.concat(Stream.of(process.toHandle()), process.descendants()).toList();
    }

    public void screenshot(Path file) throws Exception {
        JsonNode result = call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png"));
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(result.get("data").asText()));
    }

    @Override
    public void close() {
        page.abort();
        // Chromium's helper processes can still write to the profile after the browser process has gone (a folder
        // was left behind when only the browser was awaited)
        List<ProcessHandle> browser = processes();
        browser.forEach(ProcessHandle::destroy);
        try {
            CompletableFuture.allOf(browser.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new))
                    .get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            browser.forEach(ProcessHandle::destroyForcibly);
        }
        FileUtil.removeDir(profile.toFile());
    }
}
