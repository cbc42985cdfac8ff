package org.iotgateway.mqtt;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS that trusts given CA certificates instead of the JVM's trust store: PEM text (also on one line with {@code \n}
 * escapes, as environment variables carry it) or the path of a PEM file.
 */
final class TrustedCa {

    private TrustedCa() {
    }

    static SSLSocketFactory socketFactory(String pemOrPath) {
        String pem = pemOrPath.contains("-----BEGIN") ? pemOrPath.replace("\\n", "\n") : read(pemOrPath);
        try {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("no certificate in the trusted CA setting");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int index = 0;
            for (Certificate certificate : certificates) {
                store.setCertificateEntry("ca-" + index++, certificate);
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("the trusted CA setting is not a PEM certificate: " + e.getMessage(), e);
        }
    }

    private static String read(String path) {
        try {
            return Files.readString(Path.of(path.strip()), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the trusted CA file " + path + ": " + e, e);
        }
    }
}
