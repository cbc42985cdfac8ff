package org.iotgateway.inverter;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;
import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import org.iotgateway.testing.TestPki;

/**
 * The cloud broker of the inverter bridge: MQTT over TLS only (a certificate for "localhost" from a test CA), and an
 * authenticator that lets a client in only with a JWT the solar gateway's API signed for its user name and that has
 * not expired (as EMQX's JWT authentication does), or as the cloud service with its own password.
 */
public final class JwtCheckingBroker implements AutoCloseable {

    public static final String CLOUD_USER = "cloud";
    public static final String CLOUD_PASSWORD = "cloud-secret";

    /** A connect the authenticator judged: who, with which token, and why it was refused (null: accepted). */
    record Login(String clientId, String username, String password, String rejection) {
    }

    final List<Login> logins = new CopyOnWriteArrayList<>();
    private final EmbeddedHiveMQ hivemq;

    public JwtCheckingBroker(Path work, int port, TestPki pki, BiFunction<String, String, String> jwtRejection) throws Exception {
        Path config = Files.createDirectories(work.resolve("conf"));
        Files.writeString(config.resolve("config.xml"), """
                <?xml version="1.0"?>
                <hivemq>
                    <listeners>
                        <tls-tcp-listener>
                            <port>%d</port>
                            <bind-address>127.0.0.1</bind-address>
                            <tls>
                                <keystore>
                                    <path>%s</path>
                                    <password>%s</password>
                                    <private-key-password>%s</private-key-password>
                                </keystore>
                            </tls>
                        </tls-tcp-listener>
                    </listeners>
                    <persistence><mode>in-memory</mode></persistence>
                </hivemq>
                """.formatted(port, pki.keystore(), TestPki.KEYSTORE_PASSWORD, TestPki.KEYSTORE_PASSWORD));
        ExtensionMain checkJwt = new ExtensionMain() {
            @Override
            public void extensionStart(ExtensionStartInput input, ExtensionStartOutput output) {
                Services.securityRegistry().setAuthenticatorProvider(provider -> (SimpleAuthenticator) (auth, result) -> {
                    String username = auth.getConnectPacket().getUserName().orElse("");
                    String password = auth.getConnectPacket().getPassword()
                            .map(bytes -> StandardCharsets.UTF_8.decode(bytes.duplicate()).toString()).orElse("");
                    String rejection = username.equals(CLOUD_USER)
                            ? (password.equals(CLOUD_PASSWORD) ? null : "wrong cloud password")
                            : jwtRejection.apply(username, password);
                    logins.add(new Login(auth.getClientInformation().getClientId(), username, password, rejection));
                    if (rejection == null) {
                        result.authenticateSuccessfully();
                    } else {
                        result.failAuthentication(ConnackReasonCode.NOT_AUTHORIZED, rejection);
                    }
                });
            }

            @Override
            public void extensionStop(ExtensionStopInput input, ExtensionStopOutput output) {
                // nothing held
            }
        };
        hivemq = EmbeddedHiveMQ.builder().withConfigurationFolder(config)
                .withDataFolder(Files.createDirectories(work.resolve("data")))
                .withExtensionsFolder(Files.createDirectories(work.resolve("extensions")))
                .withEmbeddedExtension(EmbeddedExtension.builder().withId("jwt-auth").withName("JWT check").withVersion("1")
                        .withPriority(0).withStartPriority(1000).withAuthor("test").withExtensionMain(checkJwt).build())
                .withoutLoggingBootstrap().build();
        hivemq.start().get(60, TimeUnit.SECONDS);
    }

    /** Drops a client's connection, as a broker restart or a network outage would. */
    void disconnect(String clientId) throws Exception {
        Services.clientService().disconnectClient(clientId).get(10, TimeUnit.SECONDS);
    }


    @Override
    public void close() throws Exception {
        hivemq.stop().get(30, TimeUnit.SECONDS);
        hivemq.close();
    }
}
