"""A meter's first exchange with the gateway on 127.0.0.1:<port>: CONNECT, REGISTER, QoS 1 PUBLISH, each answered
as the protocol says (CONNACK, REGACK, PUBACK rc 0). Used by .ci/first-run and .ci/packaged-jar."""
import socket
import sys

meter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
meter.settimeout(5)
gateway = ("127.0.0.1", int(sys.argv[1]))


def exchange(hex_header, text, expected):
    meter.sendto(bytes.fromhex(hex_header) + text.encode(), gateway)
    reply = meter.recv(100).hex()
    assert reply == expected, f"sent {hex_header} {text!r}: expected {expected}, got {reply}"


exchange("16 04 04 01 fd 20", "94193A04010020B8", "030500")
exchange("27 0a 00 00 ff cb", "mr/94193A04010020B8/standard/json", "070b0001ffcb00")
exchange("0c 0c 20 00 01 00 07", "hello", "070d0001000700")
