package org.iotgateway;

import org.apache.camel.main.Main;

/** Runs the gateway: {@code mvn camel:run}, or {@code java -jar} of the packaged application. */
public final class GatewayMain {

    private GatewayMain() {
    }

    public static void main(String... args) throws Exception {
        create().run(args);
    }

    /** A Camel Main with the gateway's start-up steps; tests start it the same way. */
    public static Main create() {
        Main main = new Main(GatewayMain.class);
        main.addMainListener(new GatewayStartup());
        main.addMainListener(new ExchangeEventsOptOut());
        return main;
    }
}
