package org.iotgateway.channels;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The Channels app of src/test/resources/channels/app.py, driven line by line: what it receives comes back as JSON. */
public final class DjangoChannelsApp implements AutoCloseable {

    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();

    public DjangoChannelsApp(String redisUrl) throws Exception {
        this(redisUrl, "channels_redis.core.RedisChannelLayer");
    }

    DjangoChannelsApp(String redisUrl, String backend) throws Exception {
        process = new ProcessBuilder("/usr/bin/python3", Path.of("src/test/resources/channels/app.py").toString(),
                redisUrl.replaceFirst("^valkey", "redis"), backend).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    received.add(line);
                }
            } catch (IOException ended) {
                // the app was stopped
            }
        }, "django-channels-app");
        reader.setDaemon(true);
        reader.start();
        assertThat(next(30)).isEqualTo("ready");
    }

    public void join(String group) throws Exception {
        command("{\"join\":\"" + group + "\"}");
    }

    /** channel_layer.send(channel, message) as the app does it. */
    public void send(String channel, String messageJson) throws Exception {
        command("{\"to\":\"" + channel + "\",\"send\":" + messageJson + "}");
    }

    private void command(String json) throws Exception {
        commands.write(json + "\n");
        commands.flush();
        assertThat(next(30)).startsWith("{\"done\"");
    }

    /** The next line the app printed, or null after {@code seconds}. */
    String next(long seconds) throws InterruptedException {
        return received.poll(seconds, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        process.destroy();
    }
}
