package org.iotgateway.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Hosts in network namespaces of this machine, with the Linux kernel balancing UDP between them as kube-proxy's
 * nftables mode does for a Service: a virtual address whose new flows are DNATed to a backend picked at random
 * ({@code numgen random mod N}), conntrack keeping each flow on its backend, and the device's source address kept.
 * Removing a backend does what kube-proxy does when an endpoint goes away: the map no longer names it, and its UDP
 * conntrack entries are deleted, so the next datagram of each of its flows picks a live backend.
 *
 * <pre>
 * this host (devices 10.231.1.100…, relays 10.231.1.1) ── veth ── lb (10.231.1.2 = service address, DNAT)
 *                                                                  └─ bridge 10.231.2.1 ── backend i: 10.231.2.(10+i)
 * </pre>
 * Backends reach this host's servers through relays on 10.231.1.1 (the servers listen on loopback). Needs root.
 */
public final class UdpLoadBalancer implements AutoCloseable {

    public static final String SERVICE_ADDRESS = "10.231.1.2";
    /** This host's address on the link to the balancer: relays to the tests' servers listen on it. */
    public static final String HOST_ADDRESS = "10.231.1.1";
    private static final String PREFIX = "gwso";
    private static final String LB = PREFIX + "-lb";

    private final int port;
    private final int backends;
    private final int devices;
    private final List<Integer> live = new ArrayList<>();

    /** Builds the namespaces: {@code backends} hosts behind the service address's UDP {@code port}, {@code devices} device addresses here. */
    public UdpLoadBalancer(int port, int backends, int devices) throws IOException, InterruptedException {
        this.port = port;
        this.backends = backends;
        this.devices = devices;
        removeLeftovers();
        try {
            build();
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Whether this process may build namespaces (root, with ip, nft and conntrack). */
    public static boolean available() {
        try {
            return run(false, "id", "-u").strip().equals("0") && !run(false, "nft", "--version").isEmpty()
                    && !run(false, "conntrack", "--version").isEmpty();
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private void build() throws IOException, InterruptedException {
        run("ip", "netns", "add", LB);
        run("ip", "link", "add", PREFIX + "-c", "type", "veth", "peer", "name", PREFIX + "-l", "netns", LB);
        run("ip", "addr", "add", HOST_ADDRESS + "/24", "dev", PREFIX + "-c");
        for (int device = 0; device < devices; device++) {
            run("ip", "addr", "add", deviceAddress(device) + "/24", "dev", PREFIX + "-c");
        }
        run("ip", "link", "set", PREFIX + "-c", "up");
        run("ip", "route", "add", "10.231.2.0/24", "via", SERVICE_ADDRESS);
        inLb("ip", "addr", "add", SERVICE_ADDRESS + "/24", "dev", PREFIX + "-l");
        inLb("ip", "link", "set", PREFIX + "-l", "up");
        inLb("ip", "link", "set", "lo", "up");
        inLb("ip", "link", "add", "br0", "type", "bridge");
        inLb("ip", "addr", "add", "10.231.2.1/24", "dev", "br0");
        inLb("ip", "link", "set", "br0", "up");
        inLb("sysctl", "-qw", "net.ipv4.ip_forward=1");
        for (int backend = 1; backend <= backends; backend++) {
            String ns = namespace(backend);
            run("ip", "netns", "add", ns);
            inLb("ip", "link", "add", PREFIX + "-b" + backend, "type", "veth", "peer", "name", "eth0", "netns", ns);
            inLb("ip", "link", "set", PREFIX + "-b" + backend, "master", "br0", "up");
            run("ip", "-n", ns, "addr", "add", backendAddress(backend) + "/24", "dev", "eth0");
            run("ip", "-n", ns, "link", "set", "eth0", "up");
            run("ip", "-n", ns, "link", "set", "lo", "up");
            run("ip", "-n", ns, "route", "add", "default", "via", "10.231.2.1");
            live.add(backend);
        }
        inLb("nft", "add", "table", "ip", PREFIX);
        inLb("nft", "add chain ip " + PREFIX + " prerouting { type nat hook prerouting priority dstnat; }");
        balance();
    }

    /** The rule kube-proxy's nftables mode writes for a Service: new flows to a random live backend. */
    private void balance() throws IOException, InterruptedException {
        inLb("nft", "flush", "chain", "ip", PREFIX, "prerouting");
        String map = IntStream.range(0, live.size()).mapToObj(i -> i + " : " + backendAddress(live.get(i)))
                .collect(Collectors.joining(", "));
        inLb("nft", "add rule ip " + PREFIX + " prerouting ip daddr " + SERVICE_ADDRESS + " udp dport " + port
                + " dnat to numgen random mod " + live.size() + " map { " + map + " }");
    }

    /** The backend's endpoint is removed, as kube-proxy removes a pod that is gone or not ready. */
    public void remove(int backend) throws IOException, InterruptedException {
        live.remove(Integer.valueOf(backend));
        balance();
        // conntrack exits 1 when no entry matched
        run(false, "ip", "netns", "exec", LB, "conntrack", "-D", "-p", "udp", "--reply-src", backendAddress(backend));
    }

    /**
     * The device addresses whose flows go to each backend now, from the balancer's conntrack table: a flow's reply
     * tuple comes from its backend ({@code src=<backend> dst=<device>}).
     */
    public Map<Integer, Set<String>> devicesByBackend() throws IOException, InterruptedException {
        Map<Integer, Set<String>> devices = new HashMap<>();
        for (String flow : run(false, "ip", "netns", "exec", LB, "conntrack", "-L", "-p", "udp", "--orig-dst", SERVICE_ADDRESS)
                .lines().filter(line -> line.contains("dport=" + port)).toList()) {
            String device = flow.substring(flow.indexOf("src=") + 4, flow.indexOf(' ', flow.indexOf("src=")));
            for (int backend : live) {
                if (flow.contains("src=" + backendAddress(backend) + " ")) {
                    devices.computeIfAbsent(backend, ignored -> new HashSet<>()).add(device);
                }
            }
        }
        return devices;
    }

    public InetSocketAddress serviceAddress() {
        return new InetSocketAddress(SERVICE_ADDRESS, port);
    }

    public static String deviceAddress(int device) {
        return "10.231.1." + (100 + device);
    }

    public static String backendAddress(int backend) {
        return "10.231.2." + (10 + backend);
    }

    /** The command line prefix that runs a program on {@code backend}'s host. */
    public static List<String> onBackend(int backend) {
        return List.of("ip", "netns", "exec", namespace(backend));
    }

    private static String namespace(int backend) {
        return PREFIX + "-g" + backend;
    }

    private void inLb(String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of("ip", "netns", "exec", LB));
        line.addAll(List.of(command));
        run(line.toArray(String[]::new));
    }

    private static void removeLeftovers() throws IOException, InterruptedException {
        for (String ns : run(false, "ip", "netns", "list").lines().map(line -> line.split(" ")[0]).toList()) {
            if (ns.startsWith(PREFIX + "-")) {
                run(false, "ip", "netns", "del", ns);
            }
        }
        run(false, "ip", "link", "del", PREFIX + "-c");
    }

    @Override
    public void close() throws IOException, InterruptedException {
        // the route goes with the link; the backends' veths go with their namespaces
        removeLeftovers();
    }

    private static String run(String... command) throws IOException, InterruptedException {
        return run(true, command);
    }

    private static String run(boolean check, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0 && check) {
            throw new IOException(String.join(" ", command) + " exited with " + process.exitValue() + ": " + output.strip());
        }
        return output;
    }
}
