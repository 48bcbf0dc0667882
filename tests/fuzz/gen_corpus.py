#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/).

The corpus is kept in the tree; run this again after changing it:
    python3 tests/fuzz/gen_corpus.py
Files named found-* are inputs a fuzzing run found (libFuzzer -merge=1 of
its corpus against these seeds); they are left alone.

Frames use the addresses of the Memorystore scenario and of fuzz_pipeline.c:
client 10.8.0.2 (MAC ..:c1) behind the inside port 10.8.0.1 (MAC ..:01),
Memorystore 10.59.118.59:6379 beyond the outside port 203.0.113.10 (MAC ..:02)
and its gateway 203.0.113.1 (MAC ..:91). fuzz_pipeline inputs carry the
3-byte header that fuzz_pipeline.c describes.
"""
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")

MAC_IN = bytes([2, 0, 0, 0, 0, 0x01])
MAC_OUT = bytes([2, 0, 0, 0, 0, 0x02])
MAC_CLIENT = bytes([2, 0, 0, 0, 0, 0xC1])
MAC_GW = bytes([2, 0, 0, 0, 0, 0x91])
BCAST = b"\xff" * 6

INSIDE = "10.8.0.1"
CLIENT = "10.8.0.2"
REDIS = "10.59.118.59"
NAT = "203.0.113.10"
GW = "203.0.113.1"


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, etype, payload, vlan=None):
    if vlan is not None:
        return dst + src + struct.pack("!HHH", 0x8100, vlan, etype) + payload
    return dst + src + struct.pack("!H", etype) + payload


def ipv4(src, dst, proto, payload, ttl=64, options=b"", frag=0x4000, ident=0x1234):
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), ident, frag,
                      ttl, proto, 0, ip4(src), ip4(dst)) + options
    c = csum(hdr)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def pseudo(src, dst, proto, length):
    return ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, length)


def tcp(src, dst, sport, dport, flags, seq=1000, ack=0, options=b"", payload=b"", win=64240):
    doff = 5 + len(options) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, win, 0, 0)
    seg = hdr + options + payload
    c = csum(pseudo(src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = csum(pseudo(src, dst, 17, len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp_echo(ident, seq, payload=b"egressd", typ=8):
    msg = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + payload
    c = csum(msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def icmp_error(typ, code, quoted, mtu=0):
    msg = struct.pack("!BBHHH", typ, code, 0, 0, mtu) + quoted
    c = csum(msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def arp(op, sha, sip, tha, tip):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + ip4(sip) + tha + ip4(tip)


SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
# MSS 1460, SACK permitted, timestamps, NOP, window scale 7
SYN_OPTS = bytes([2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])


def client_tcp(flags, dst=REDIS, dport=6379, sport=40000, **kw):
    return eth(MAC_IN, MAC_CLIENT, 0x0800,
               ipv4(CLIENT, dst, 6, tcp(CLIENT, dst, sport, dport, flags, **kw)))


def server_tcp(flags, src=REDIS, sport=6379, dport=1024, **kw):
    return eth(MAC_OUT, MAC_GW, 0x0800,
               ipv4(src, NAT, 6, tcp(src, NAT, sport, dport, flags, **kw)))


def frames():
    """Named frames, valid and not, shared by the pkt and pipeline corpora."""
    syn = client_tcp(SYN, options=SYN_OPTS)
    f = {
        "tcp_syn_redis": syn,
        "tcp_synack_reply": server_tcp(SYN | ACK, seq=5000, ack=1001, options=SYN_OPTS[:4]),
        "tcp_ack_client": client_tcp(ACK, seq=1001, ack=5001),
        "tcp_data_client": client_tcp(PSH | ACK, seq=1001, ack=5001, payload=b"*1\r\n$4\r\nPING\r\n"),
        "tcp_data_server": server_tcp(PSH | ACK, seq=5001, ack=1015, payload=b"+PONG\r\n"),
        "tcp_fin_client": client_tcp(FIN | ACK, seq=1015, ack=5008),
        "tcp_fin_server": server_tcp(FIN | ACK, seq=5008, ack=1016),
        "tcp_rst_server": server_tcp(RST, seq=5009),
        "tcp_syn_denied_port": client_tcp(SYN, dport=6380),
        "tcp_syn_static_vip": client_tcp(SYN, dst="10.59.118.60", dport=6380, options=SYN_OPTS),
        "tcp_syn_cidr": client_tcp(SYN, dst="198.51.100.7", dport=443),
        "udp_dns": eth(MAC_IN, MAC_CLIENT, 0x0800,
                       ipv4(CLIENT, "192.0.2.53", 17,
                            udp(CLIENT, "192.0.2.53", 5353, 53,
                                bytes.fromhex("abcd01000001000000000000") + b"\x03www\x00\x00\x01\x00\x01"))),
        "udp_dns_reply": eth(MAC_OUT, MAC_GW, 0x0800,
                             ipv4("192.0.2.53", NAT, 17, udp("192.0.2.53", NAT, 53, 1024, b"\xab\xcd\x81\x80"))),
        "arp_request_inside": eth(BCAST, MAC_CLIENT, 0x0806,
                                  arp(1, MAC_CLIENT, CLIENT, b"\0" * 6, INSIDE)),
        "arp_request_outside": eth(BCAST, MAC_GW, 0x0806, arp(1, MAC_GW, GW, b"\0" * 6, NAT)),
        "arp_reply_outside": eth(MAC_OUT, MAC_GW, 0x0806, arp(2, MAC_GW, GW, MAC_OUT, NAT)),
        "icmp_echo_inside": eth(MAC_IN, MAC_CLIENT, 0x0800, ipv4(CLIENT, INSIDE, 1, icmp_echo(0x77, 1))),
        "icmp_echo_outside": eth(MAC_OUT, MAC_GW, 0x0800, ipv4(GW, NAT, 1, icmp_echo(0x78, 1))),
        # what a router beyond the gateway says about the NATed SYN / datagram
        "icmp_frag_needed": eth(MAC_OUT, MAC_GW, 0x0800,
                                ipv4(GW, NAT, 1, icmp_error(3, 4, ipv4(NAT, REDIS, 6, tcp(
                                    NAT, REDIS, 1050, 6379, SYN, options=SYN_OPTS))[:28 + 20],
                                    mtu=1200))),
        "icmp_ttl_exceeded_udp": eth(MAC_OUT, MAC_GW, 0x0800,
                                     ipv4(GW, NAT, 1, icmp_error(11, 0, ipv4(NAT, "192.0.2.53", 17, udp(
                                         NAT, "192.0.2.53", 1050, 53, b"\xab\xcd\x01\x00"))))),
        "vlan_tcp_syn": eth(MAC_IN, MAC_CLIENT, 0x0800,
                            ipv4(CLIENT, REDIS, 6, tcp(CLIENT, REDIS, 40001, 6379, SYN)), vlan=100),
        "ip_options_rr": eth(MAC_IN, MAC_CLIENT, 0x0800,
                             ipv4(CLIENT, REDIS, 6, tcp(CLIENT, REDIS, 40002, 6379, SYN),
                                  options=bytes([7, 7, 4, 0, 0, 0, 0, 0]))),
        "ip_options_lsrr": eth(MAC_IN, MAC_CLIENT, 0x0800,
                               ipv4(CLIENT, REDIS, 6, tcp(CLIENT, REDIS, 40003, 6379, SYN),
                                    options=bytes([131, 7, 4]) + ip4(GW) + b"\0")),
        "ip_fragment": eth(MAC_IN, MAC_CLIENT, 0x0800,
                           ipv4(CLIENT, REDIS, 17, udp(CLIENT, REDIS, 4000, 6379, b"x" * 16), frag=0x2000)),
        "tcp_ttl1": eth(MAC_IN, MAC_CLIENT, 0x0800,
                        ipv4(CLIENT, REDIS, 6, tcp(CLIENT, REDIS, 40004, 6379, SYN), ttl=1)),
        "trailer_padded": eth(MAC_IN, MAC_CLIENT, 0x0800, ipv4(CLIENT, REDIS, 6, tcp(CLIENT, REDIS, 40005, 6379, SYN))) + b"\0" * 6,
        "truncated_eth": syn[:10],
        "truncated_ip": syn[:14 + 12],
        "truncated_tcp": syn[:14 + 20 + 10],
        "truncated_opts": syn[:14 + 20 + 24],
    }
    return f


# What the pipeline does with each frame: (byte 0, byte 1, byte 2, byte 3).
# byte 0: 0x01 outside, 0x40 expire + audit; byte 1: 0x01 our MAC, 0x02 fix
# checksums, 0x10 endpoint tables, 0x20 a recent flow's 5-tuple; byte 3: 0x01
# worker 1 receives it, 0x02 tcp_liberal.
PIPELINE = {
    "tcp_syn_redis": (0x00, 0x00, 0, 0),
    "tcp_synack_reply": (0x01, 0x22, 0, 0),
    "tcp_ack_client": (0x02, 0x22, 0, 0),
    "tcp_data_client": (0x02, 0x22, 0, 0),
    "tcp_data_server": (0x03, 0x22, 0, 0),
    "tcp_fin_client": (0x06, 0x22, 0, 0),
    "tcp_fin_server": (0x07, 0x22, 0, 0),
    "tcp_rst_server": (0x09, 0x22, 0, 0),
    "tcp_syn_denied_port": (0x00, 0x00, 0, 0),
    "tcp_syn_static_vip": (0x00, 0x00, 0, 0),
    "tcp_syn_cidr": (0x00, 0x00, 0, 0),
    "udp_dns": (0x00, 0x00, 0, 0),
    "udp_dns_reply": (0x03, 0x22, 0, 0),
    "arp_request_inside": (0x00, 0x00, 0, 0),
    "arp_request_outside": (0x01, 0x00, 0, 0),
    "arp_reply_outside": (0x01, 0x00, 0, 0),
    "icmp_echo_inside": (0x00, 0x00, 0, 0),
    "icmp_echo_outside": (0x01, 0x00, 0, 0),
    "icmp_frag_needed": (0x01, 0x22, 0, 0),
    "icmp_ttl_exceeded_udp": (0x01, 0x22, 0, 0),
    "vlan_tcp_syn": (0x80, 0x00, 0, 0),
    "ip_options_rr": (0x00, 0x00, 0, 0),
    "ip_options_lsrr": (0x00, 0x00, 0, 0),
    "ip_fragment": (0x00, 0x00, 0, 0),
    "tcp_ttl1": (0x00, 0x00, 0, 0),
    "trailer_padded": (0x00, 0x00, 0, 0),
    "truncated_tcp": (0x00, 0x01, 0, 0),
}
# A few more: the same frames under other policies, times and modes.
PIPELINE_EXTRA = [
    ("tcp_data_server", "recheck_gen2", (0x13, 0x22, 0, 0)),     # same rules republished
    ("tcp_ack_client", "allow_any_gen3", (0x22, 0x22, 0, 0)),    # ALLOW_ANY, no rules
    ("tcp_ack_client", "revoke_gen4", (0x32, 0x22, 0, 0)),       # no rules: revoked, RSTs
    ("tcp_syn_redis", "sweep_revoke_gen4", (0x70, 0x00, 0, 0)),  # the sweep revokes
    ("tcp_syn_redis", "expire_after_2h", (0x4e, 0x00, 0, 0)),    # +7441 s, then sweep
    ("tcp_syn_redis", "allow_any_tables", (0x20, 0x13, 0x98, 0)),  # 10.8.0.2 -> 8.8.8.8
    ("tcp_syn_redis", "offload_good", (0x00, 0x04, 0, 0)),
    ("tcp_syn_redis", "preserve_port_drop", (0x00, 0xc0, 0, 0)),
    ("udp_dns", "udp_tables", (0x00, 0x13, 0x20, 0)),
    ("tcp_synack_reply", "handoff_synack", (0x01, 0x22, 0, 0x01)),  # worker 1 -> owner 0
    ("tcp_data_server", "handoff_data_liberal", (0x03, 0x22, 0, 0x03)),
]


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as fh:
        fh.write(data)


def copy_yaml(target, paths):
    for p in paths:
        src = os.path.join(ROOT, p)
        if os.path.isdir(src):
            for n in sorted(os.listdir(src)):
                if n.endswith(".yaml"):
                    rel = os.path.relpath(os.path.join(src, n), ROOT)
                    shutil.copyfile(os.path.join(src, n),
                                    os.path.join(OUT, target, rel.replace("/", "_")))
        else:
            shutil.copyfile(src, os.path.join(OUT, target, p.replace("/", "_")))


def main():
    # found-*: inputs the fuzzers found (merged with -merge=1), kept as they are
    for dp, _, ns in os.walk(OUT):
        for n in ns:
            if not n.startswith("found-"):
                os.remove(os.path.join(dp, n))
    f = frames()
    for name, data in f.items():
        write("pkt", name, data)
    for name, hdr in PIPELINE.items():
        write("pipeline", name, bytes(hdr) + f[name])
    for frame, name, hdr in PIPELINE_EXTRA:
        write("pipeline", name, bytes(hdr) + f[frame])
    for t in ("yaml", "config", "istio"):
        os.makedirs(os.path.join(OUT, t), exist_ok=True)
    copy_yaml("yaml", ["config/memorystore/egressd.yaml", "config/memorystore/policy",
                       "tests/data/istio/valid/list.yaml", "tests/data/istio/valid/mixed.yaml"])
    copy_yaml("config", ["config/memorystore/egressd.yaml", "config/bare-metal.yaml",
                         "config/pcap-bench.yaml", "config/sriov-vm.yaml"])
    copy_yaml("istio", ["config/memorystore/policy", "tests/data/istio/valid"])
    total = sum(os.path.getsize(os.path.join(dp, n))
                for dp, _, ns in os.walk(OUT) for n in ns)
    print("corpus: %d bytes in %s" % (total, os.path.relpath(OUT, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
