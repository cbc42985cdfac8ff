"""Meters whose readings take a slow step, and the others: the others' PUBACK latency, as they see it.

    python3 bench/blocking_step.py PORT NORMAL SLOW RATE_PER_METER SECONDS

NORMAL + SLOW meters, each its own UDP socket: CONNECT, REGISTER (normal meters "mr/<id>/standard/json", slow meters
"slow/<id>", which the route under test holds in a step that waits), then QoS 1 PUBLISH of the Elvaco reading,
RATE_PER_METER a second each, open loop (the next one is due whether or not the PUBACK came: a stalled gateway shows
as latency, not as a lower rate). Prints key=value lines: the normal meters' PUBACK latency (ms) and how many of their
readings had no PUBACK when the run ended; stalled=1 when a meter's CONNECT or REGISTER got no answer within 5 s.
"""
import select
import socket
import sys
import time

PAYLOAD = open("bench/elvaco-reading.json", "rb").read()


def packet(kind, body):
    return bytes([len(body) + 2, kind]) + body


def main():
    port, normal, slow, rate, seconds = (int(a) for a in sys.argv[1:6])
    gateway = ("127.0.0.1", port)
    poller = select.epoll()
    meters = {}
    for index in range(normal + slow):
        is_slow = index >= normal
        client_id = f"{'SLOW' if is_slow else 'NORM'}{index:012d}"
        topic = f"slow/{client_id}" if is_slow else f"mr/{client_id}/standard/json"
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(5)
        try:
            sock.sendto(packet(0x04, b"\x04\x01\x00\x3c" + client_id.encode()), gateway)
            assert sock.recv(64) == b"\x03\x05\x00", client_id
            sock.sendto(packet(0x0A, b"\x00\x00\x00\x01" + topic.encode()), gateway)
            regack = sock.recv(64)
        except socket.timeout:
            print(f"stalled=1\nnormal_readings=0\nunanswered_at_end=0\np50_ms=nan\np99_ms=nan\nmax_ms=nan")
            return
        assert regack[1] == 0x0B and regack[-1] == 0, regack
        sock.setblocking(False)
        poller.register(sock.fileno(), select.EPOLLIN)
        meters[sock.fileno()] = {"sock": sock, "slow": is_slow, "topic_id": regack[2:4], "sent": {}, "msg_id": 0}
    order = list(meters.values())
    interval = 1.0 / (rate * len(order))
    latencies, unanswered = [], 0
    start = time.monotonic()
    next_send, turn = start, 0
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        while next_send <= now:
            meter = order[turn % len(order)]
            turn += 1
            meter["msg_id"] = meter["msg_id"] % 65535 + 1
            msg_id = meter["msg_id"].to_bytes(2, "big")
            meter["sent"][msg_id] = time.monotonic()
            meter["sock"].sendto(packet(0x0C, b"\x20" + meter["topic_id"] + msg_id + PAYLOAD), gateway)
            next_send += interval
        for fd, _ in poller.poll(max(0.0, next_send - time.monotonic())):
            meter = meters[fd]
            while True:
                try:
                    reply = meter["sock"].recv(64)
                except BlockingIOError:
                    break
                sent = meter["sent"].pop(reply[4:6], None)
                if sent is not None and not meter["slow"] and reply[1] == 0x0D and reply[-1] == 0:
                    latencies.append((time.monotonic() - sent) * 1000)
    unanswered = sum(len(m["sent"]) for m in order if not m["slow"])
    latencies.sort()

    def pct(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
    print(f"stalled=0\nnormal_readings={len(latencies)}\nunanswered_at_end={unanswered}\n"
          f"p50_ms={pct(0.50):.2f}\np99_ms={pct(0.99):.2f}\nmax_ms={latencies[-1] if latencies else float('nan'):.2f}")


main()
