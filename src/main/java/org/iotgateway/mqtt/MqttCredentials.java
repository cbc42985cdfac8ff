package org.iotgateway.mqtt;

/**
 * User name and password obtained anew for every connect attempt, for brokers that take short-lived tokens (a JWT as
 * the password): a reconnect never presents a token that has expired since the last one. When the bean is a Camel
 * {@code Service}, the connection starts and stops it with itself.
 */
public interface MqttCredentials {

    record Credentials(String username, String password) {
        @Override
        public String toString() {
            return "Credentials[" + username + ", password hidden]";
        }
    }

    /** Called on the connection's own thread before each connect; an exception postpones the attempt with backoff. */
    Credentials next() throws Exception;
}
