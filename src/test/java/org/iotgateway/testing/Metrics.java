package org.iotgateway.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Figures the tests and benchmarks read: a Prometheus scrape's samples, a process's CPU time. */
public final class Metrics {

    private Metrics() {
    }

    /** The sum of a metric's samples in a Prometheus scrape whose line contains every one of {@code labels}. */
    public static double sum(String scrape, String name, String... labels) {
        return scrape.lines().filter(line -> line.startsWith(name + "{") || line.startsWith(name + " "))
                .filter(line -> List.of(labels).stream().allMatch(line::contains))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    /** User + system CPU time of a process so far, in clock ticks (1/100 s); 0 once it is gone. */
    public static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (IOException gone) {
            return 0;
        }
    }
}
