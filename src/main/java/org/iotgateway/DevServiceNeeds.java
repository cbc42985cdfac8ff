package org.iotgateway;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which service addresses the enabled route groups need but nobody configured. The embedded stand-ins fill them; in
 * the packaged application, which has none, the original gateways' defaults (localhost) apply.
 */
public final class DevServiceNeeds {

    /** A kind of service, the address settings of the route groups that use it, and its address outside development. */
    public enum Service {
        AMQP("amqp://guest:guest@localhost:5672//", Map.of("mqttsn", List.of("mqttsn.amqp-connection-string"))),
        VALKEY("valkey://localhost:6379/0", Map.of("mqttsn", List.of("mqttsn.valkey-connection-string"),
                "channels", List.of("channels.redis-url"))),
        MQTT("tcp://localhost:1883", Map.of("live", List.of("live.mqtt-url"), "channels", List.of("channels.mqtt-url"),
                "onem2m", List.of("onem2m.mqtt-url")));

        private final String defaultAddress;
        private final Map<String, List<String>> propertiesByGroup;

        Service(String defaultAddress, Map<String, List<String>> propertiesByGroup) {
            this.defaultAddress = defaultAddress;
            this.propertiesByGroup = propertiesByGroup;
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(DevServiceNeeds.class);

    private final Map<Service, List<String>> unset;

    private DevServiceNeeds(Map<Service, List<String>> unset) {
        this.unset = unset;
    }

    static DevServiceNeeds of(PropertiesComponent properties, List<String> groups) {
        Map<Service, List<String>> unset = new EnumMap<>(Service.class);
        for (Service service : Service.values()) {
            List<String> names = new ArrayList<>();
            service.propertiesByGroup.forEach((group, groupProperties) -> {
                if (groups.contains(group)) {
                    groupProperties.stream().filter(name -> blank(properties.resolveProperty(name))).forEach(names::add);
                }
            });
            if (!names.isEmpty()) {
                unset.put(service, List.copyOf(names));
            }
        }
        return new DevServiceNeeds(unset);
    }

    private static boolean blank(Optional<String> value) {
        return value.map(String::isBlank).orElse(true);
    }

    public boolean needs(Service service) {
        return unset.containsKey(service);
    }

    boolean any() {
        return !unset.isEmpty();
    }

    /** Points the unconfigured settings of {@code service} at the stand-in started for them; returns their names. */
    public List<String> provide(Service service, String address) {
        List<String> names = unset.getOrDefault(service, List.of());
        names.forEach(name -> System.setProperty(name, address));
        return names;
    }

    public void withdraw(Service service) {
        unset.getOrDefault(service, List.of()).forEach(System::clearProperty);
    }

    void useDefaults() {
        unset.forEach((service, names) -> names.forEach(name -> {
            LOG.info("{} is not set: using {}", name, service.defaultAddress);
            System.setProperty(name, service.defaultAddress);
        }));
    }
}
