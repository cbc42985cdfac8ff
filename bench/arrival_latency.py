"""Open-loop MQTT-SN meters that time each PUBACK by its arrival in the kernel, as a meter would see it.

    python3 bench/arrival_latency.py PORT DEVICES WARMUP SECONDS RATE

Each simulated meter has its own UDP socket: CONNECT, REGISTER, then QoS 1 PUBLISH of the Elvaco reading at RATE per
second in total, from meters not awaiting a PUBACK; for WARMUP seconds untimed (the queue's consumer, another process,
warms up meanwhile), then SECONDS timed. The PUBACK's time is the kernel's receive timestamp
(SO_TIMESTAMPNS), so the time this process takes to get scheduled and read it is not counted; the time it took to read
is reported too. Prints key=value lines (milliseconds).
"""
import collections
import select
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
PAYLOAD = open("bench/elvaco-reading.json", "rb").read()


def percentile(values, q):
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main():
    port, devices, warmup, seconds, rate = (int(a) for a in sys.argv[1:6])
    gateway = ("127.0.0.1", port)
    poller = select.epoll()
    meters = {}
    for i in range(devices):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind(("127.0.0.1", 0))
        s.connect(gateway)
        s.setblocking(False)
        poller.register(s.fileno(), select.EPOLLIN)
        meters[s.fileno()] = {"sock": s, "id": "ARRIVAL%09d" % i, "state": "connect", "sent": 0.0, "msg": 0}

    def send(m, datagram):
        m["sent"] = time.clock_gettime(time.CLOCK_REALTIME)
        m["sock"].send(datagram)

    def connect(m):
        send(m, bytes([6 + len(m["id"]), 0x04, 0x04, 0x01, 0xFD, 0x20]) + m["id"].encode())

    def register(m):
        topic = ("mr/%s/standard/json" % m["id"]).encode()
        send(m, bytes([6 + len(topic), 0x0A, 0, 0, 0, 1]) + topic)

    def publish(m):
        m["msg"] = m["msg"] % 65535 + 1
        m["state"] = "awaiting"
        send(m, bytes([7 + len(PAYLOAD), 0x0C, 0x20, 0, 1, m["msg"] >> 8, m["msg"] & 0xFF]) + PAYLOAD)

    for m in meters.values():
        connect(m)
    ready = 0
    setup_deadline = time.monotonic() + 60
    while ready < devices and time.monotonic() < setup_deadline:
        for fd, _ in poller.poll(0.1):
            m = meters[fd]
            reply = m["sock"].recv(64)
            if reply[1] == 0x05 and m["state"] == "connect":
                m["state"] = "register"
                register(m)
            elif reply[1] == 0x0B and m["state"] == "register":
                m["state"] = "ready"
                ready += 1

    arrival, read = [], []
    sent = acked = 0
    idle = collections.deque(m for m in meters.values() if m["state"] == "ready")
    start = time.monotonic()
    end = start + warmup + seconds
    measure_from = time.clock_gettime(time.CLOCK_REALTIME) + warmup
    measured = 0
    while time.monotonic() < end:
        due = int((time.monotonic() - start) * rate) - sent
        while due > 0 and idle:
            publish(idle.popleft())
            sent += 1
            due -= 1
        for fd, _ in poller.poll(0.001):
            m = meters[fd]
            reply, ancillary, _, _ = m["sock"].recvmsg(64, 64)
            now = time.clock_gettime(time.CLOCK_REALTIME)
            if reply[1] != 0x0D or m["state"] != "awaiting" or (reply[4] << 8 | reply[5]) != m["msg"] or reply[6] != 0:
                continue
            acked += 1
            m["state"] = "ready"
            idle.append(m)
            if m["sent"] < measure_from:
                continue
            measured += 1
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", data[:16])
                    arrival.append((sec + nsec / 1e9 - m["sent"]) * 1000)
            read.append((now - m["sent"]) * 1000)
    elapsed = time.monotonic() - start - warmup
    arrival.sort()
    read.sort()
    print(f"devices={devices}\nseconds={elapsed:.2f}\nsent_in_all={sent}\nacked_in_all={acked}\nacked={measured}")
    print(f"msgs_per_second={measured / elapsed:.0f}")
    for name, values in (("arrival", arrival), ("read", read)):
        print(f"{name}_p50_ms={percentile(values, 0.5):.2f}\n{name}_p99_ms={percentile(values, 0.99):.2f}")


if __name__ == "__main__":
    main()
