package org.iotgateway;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.camel.main.Main;

/**
 * Runs the gateway: {@code mvn camel:run}, or {@code java -jar} of the packaged application, with the Python MQTT-SN
 * gateway's command line: {@code --help}, {@code --debug}, {@code --json-logs}, {@code --env-file PATH},
 * {@code --no-env-files}; other arguments go to Camel Main.
 */
public final class GatewayMain {

    static final String USAGE = """
            Usage: java -jar iot-gateway.jar [options]   (or: mvn camel:run)

              --help             print this and exit
              --debug            log the gateway's own classes at DEBUG (or MQTTSN_DEBUG=true, GATEWAY_DEBUG=true)
              --json-logs        one JSON object per log line (or MQTTSN_JSON_LOGS=true, GATEWAY_JSON_LOGS=true)
              --env-file PATH    read variables from PATH instead of ./.env (or MQTTSN_ENV_FILE=PATH)
              --no-env-files     read no .env file (or MQTTSN_NO_ENV_FILES=true)

            Settings come from application.properties; each can be an environment variable (mqttsn.port -> MQTTSN_PORT)
            or a line of the .env file, and the real environment wins over the file. MQTTSN_ENV_FILE,
            MQTTSN_NO_ENV_FILES, MQTTSN_DEBUG and MQTTSN_JSON_LOGS are read from the environment only.
            Errors go to Sentry when MQTTSN_SENTRY_DSN (or GATEWAY_SENTRY_DSN) is set.
            Reference: docs/configuration.md
            """;

    private GatewayMain() {
    }

    public static void main(String... args) throws Exception {
        List<String> camelArgs = new ArrayList<>();
        String envFile = System.getenv("MQTTSN_ENV_FILE");
        boolean envFiles = !Boolean.parseBoolean(System.getenv("MQTTSN_NO_ENV_FILES"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    System.out.print(USAGE);
                    return;
                }
                // read by log4j2.xml before the first line is logged
                case "--debug" -> System.setProperty("gateway.debug", "true");
                case "--json-logs" -> System.setProperty("gateway.json-logs", "true");
                case "--no-env-files" -> envFiles = false;
                case "--env-file" -> {
                    if (i + 1 == args.length) {
                        System.err.println("--env-file needs a PATH\n\n" + USAGE);
                        System.exit(2);
                    }
                    envFile = args[++i];
                }
                default -> camelArgs.add(args[i]);
            }
        }
        if (envFiles) {
            Path file = Path.of(envFile != null ? envFile : ".env");
            if (Files.isRegularFile(file)) {
                EnvFiles.load(file);
            } else if (envFile != null) {
                System.err.println("The env file " + file.toAbsolutePath() + " does not exist");
                System.exit(2);
            }
        }
        String sentryDsn = EnvFiles.variable("GATEWAY_SENTRY_DSN");
        sentryDsn = sentryDsn != null ? sentryDsn : EnvFiles.variable("MQTTSN_SENTRY_DSN");
        if (sentryDsn != null) {
            // read by log4j2.xml's Sentry appender, which the first logged line starts
            System.setProperty("gateway.sentry-dsn", sentryDsn);
        }
        create().run(camelArgs.toArray(String[]::new));
    }

    /** A Camel Main with the gateway's start-up steps; tests start it the same way. */
    public static Main create() {
        Main main = new Main(GatewayMain.class);
        main.addMainListener(new GatewayStartup());
        main.addMainListener(new ExchangeEventsOptOut());
        return main;
    }
}
