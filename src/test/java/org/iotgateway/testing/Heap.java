package org.iotgateway.testing;

import java.lang.management.ManagementFactory;

/** The heap of this JVM, where the tests run the gateway. */
public final class Heap {

    private Heap() {
    }

    /** Bytes of heap in use after a few full collections: what the gateway really holds. */
    public static long usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
