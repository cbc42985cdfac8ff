package org.iotgateway;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for a broker connection (MQTT, AMQP): the CA certificates to trust instead of the JVM's trust store, and a client certificate
 * with its private key for brokers that ask for one. Each is PEM text (also on one line with {@code \n} escapes, as
 * environment variables carry it) or the path of a PEM file; the key is unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}).
 */
public final class TlsSettings {

    private TlsSettings() {
    }

    /** Null when nothing is set: Paho's default, the JVM's trust store. */
    public static SSLSocketFactory socketFactory(String trustedCa, String clientCertificate, String clientKey) {
        SSLContext context = sslContext(trustedCa, clientCertificate, clientKey);
        return context == null ? null : context.getSocketFactory();
    }

    /** Null when nothing is set: the JVM's trust store and no client certificate. */
    public static SSLContext sslContext(String trustedCa, String clientCertificate, String clientKey) {
        boolean trust = !blank(trustedCa);
        boolean identify = !blank(clientCertificate) || !blank(clientKey);
        if (!trust && !identify) {
            return null;
        }
        if (identify && (blank(clientCertificate) || blank(clientKey))) {
            throw new IllegalArgumentException("a client certificate needs both the certificate and its private key");
        }
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(identify ? keyManagers(clientCertificate, clientKey) : null, trust ? trustManagers(trustedCa) : null, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("TLS settings: " + e.getMessage(), e);
        }
    }

    private static TrustManager[] trustManagers(String trustedCa) throws GeneralSecurityException, IOException {
        Collection<? extends Certificate> certificates = certificates(pem(trustedCa, "trusted CA"));
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
        return trust.getTrustManagers();
    }

    private static KeyManager[] keyManagers(String clientCertificate, String clientKey) throws GeneralSecurityException, IOException {
        Certificate[] chain = certificates(pem(clientCertificate, "client certificate")).toArray(Certificate[]::new);
        if (chain.length == 0) {
            throw new IllegalArgumentException("no certificate in the client certificate setting");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        char[] password = new char[0];
        store.setKeyEntry("client", privateKey(pem(clientKey, "client key")), password, chain);
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        return keys.getKeyManagers();
    }

    private static Collection<? extends Certificate> certificates(String pem) throws GeneralSecurityException {
        return CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    private static PrivateKey privateKey(String pem) throws GeneralSecurityException {
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("the client key must be an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY); "
                    + "convert one with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (InvalidKeySpecException notThisAlgorithm) {
                // try the next
            }
        }
        throw new IllegalArgumentException("the client key is neither an RSA, an EC nor an Ed25519 key");
    }

    private static String pem(String pemOrPath, String what) {
        if (pemOrPath.contains("-----BEGIN")) {
            return pemOrPath.replace("\\n", "\n");
        }
        try {
            return Files.readString(Path.of(pemOrPath.strip()), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the " + what + " file " + pemOrPath + ": " + e, e);
        }
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }
}
