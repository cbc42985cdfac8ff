package org.iotgateway;

import java.util.List;
import java.util.Optional;

import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which service addresses the enabled route groups need but nobody configured. The embedded stand-ins fill them; in
 * the packaged application, which has none, the original gateways' defaults (localhost) apply.
 */
public final class DevServiceNeeds {

    public static final String AMQP = "mqttsn.amqp-connection-string";
    public static final String VALKEY = "mqttsn.valkey-connection-string";
    private static final String AMQP_DEFAULT = "amqp://guest:guest@localhost:5672//";
    private static final String VALKEY_DEFAULT = "valkey://localhost:6379/0";
    private static final Logger LOG = LoggerFactory.getLogger(DevServiceNeeds.class);

    private final boolean amqp;
    private final boolean valkey;

    private DevServiceNeeds(boolean amqp, boolean valkey) {
        this.amqp = amqp;
        this.valkey = valkey;
    }

    static DevServiceNeeds of(PropertiesComponent properties, List<String> groups) {
        boolean meters = groups.contains("mqttsn");
        return new DevServiceNeeds(meters && blank(properties.resolveProperty(AMQP)),
                meters && blank(properties.resolveProperty(VALKEY)));
    }

    private static boolean blank(Optional<String> value) {
        return value.map(String::isBlank).orElse(true);
    }

    public boolean amqp() {
        return amqp;
    }

    public boolean valkey() {
        return valkey;
    }

    boolean any() {
        return amqp || valkey;
    }

    /** Points an unconfigured address at the service the stand-in started (or at the default). */
    public static void provide(String property, String address) {
        System.setProperty(property, address);
    }

    public static void withdraw(String property) {
        System.clearProperty(property);
    }

    void useDefaults() {
        if (amqp) {
            LOG.info("{} is not set: using {}", AMQP, AMQP_DEFAULT);
            provide(AMQP, AMQP_DEFAULT);
        }
        if (valkey) {
            LOG.info("{} is not set: using {}", VALKEY, VALKEY_DEFAULT);
            provide(VALKEY, VALKEY_DEFAULT);
        }
    }
}
