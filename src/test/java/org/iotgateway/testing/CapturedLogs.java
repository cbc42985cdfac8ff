package org.iotgateway.testing;

import java.io.StringWriter;
import java.util.List;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

/** Everything the application logs while open, at every level, kept in memory to check what it says (or must not). */
public final class CapturedLogs implements AutoCloseable {

    private final StringWriter text = new StringWriter();
    private final WriterAppender appender;
    private final Level rootLevel;
    private final List<Appender> consoleAppenders;

    public CapturedLogs() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        appender = WriterAppender.newBuilder().setName("captured-" + System.identityHashCode(this)).setTarget(text)
                .setLayout(PatternLayout.newBuilder().withPattern("%-5level %c{1} - %msg %throwable%n").build()).build();
        appender.start();
        rootLevel = configuration.getRootLogger().getLevel();
        LoggerConfig root = configuration.getRootLogger();
        // DEBUG is captured too, but the console keeps showing what it showed
        consoleAppenders = List.copyOf(root.getAppenders().values());
        consoleAppenders.forEach(console -> {
            root.removeAppender(console.getName());
            root.addAppender(console, rootLevel, null);
        });
        root.addAppender(appender, Level.ALL, null);
        root.setLevel(Level.DEBUG);
        context.updateLoggers();
    }

    public String text() {
        synchronized (text) {
            return text.toString();
        }
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        LoggerConfig root = context.getConfiguration().getRootLogger();
        root.removeAppender(appender.getName());
        consoleAppenders.forEach(console -> {
            root.removeAppender(console.getName());
            root.addAppender(console, null, null);
        });
        root.setLevel(rootLevel);
        context.updateLoggers();
        appender.stop();
    }
}
