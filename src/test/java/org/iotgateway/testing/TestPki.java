package org.iotgateway.testing;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A test CA and a server certificate for "localhost" it signed, made with openssl in a folder of their own:
 * {@code ca.pem}, {@code server.pem}, {@code server.key} and {@code server.p12} (password {@link #KEYSTORE_PASSWORD}).
 */
public final class TestPki {

    public static final String KEYSTORE_PASSWORD = "changeit";

    private final Path dir;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /** Makes the CA and the server certificate in {@code dir}, readable by a broker that runs as another user. */
    public static TestPki create(Path dir) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "needs openssl (Debian package openssl), as .ci/run installs");
        TestPki pki = new TestPki(dir);
        pki.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
                "-keyout", "ca.key", "-out", "ca.pem");
        pki.run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr");
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=DNS:localhost\n");
        pki.run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", "san.ext", "-out", "server.pem");
        pki.run("openssl", "pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-name", "server",
                "-passout", "pass:" + KEYSTORE_PASSWORD, "-out", "server.p12");
        for (String file : new String[] {"server.key", "server.p12"}) {
            Files.setPosixFilePermissions(dir.resolve(file), PosixFilePermissions.fromString("rw-r--r--"));
        }
        return pki;
    }

    public Path caPem() {
        return dir.resolve("ca.pem");
    }

    public Path serverPem() {
        return dir.resolve("server.pem");
    }

    public Path serverKey() {
        return dir.resolve("server.key");
    }

    public Path keystore() {
        return dir.resolve("server.p12");
    }

    /** A client certificate for {@code commonName} from this CA: {@code <name>.pem} and its PKCS#8 key {@code <name>.key}. */
    public Path[] clientCertificate(String commonName) throws Exception {
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + commonName, "-keyout", commonName + ".key",
                "-out", commonName + ".csr");
        run("openssl", "x509", "-req", "-in", commonName + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", commonName + ".pem");
        return new Path[] {dir.resolve(commonName + ".pem"), dir.resolve(commonName + ".key")};
    }

    /** TLS for test clients that trusts this CA only. */
    public SSLSocketFactory clientSocketFactory() throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream pem = Files.newInputStream(caPem())) {
            Certificate ca = CertificateFactory.getInstance("X.509").generateCertificate(pem);
            store.setCertificateEntry("ca", ca);
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context.getSocketFactory();
    }

    private void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }
}
