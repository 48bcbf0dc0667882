#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/).

The corpus is kept in the tree; run this again after changing it:
    python3 tests/fuzz/gen_corpus.py
Files named found-* (inputs a fuzzing run found: libFuzzer -merge=1 of its
corpus against these seeds), finding-* and regress-* (reproducers of
findings, kept as regressions) are left alone.

Frames use the addresses of the Memorystore scenario and of fuzz_pipeline.c:
client 10.8.0.2 (MAC ..:c1) behind the inside port 10.8.0.1 (MAC ..:01),
Memorystore 10.59.118.59:6379 beyond the outside port 203.0.113.10 (MAC ..:02)
and its gateway 203.0.113.1 (MAC ..:91). fuzz_pipeline inputs are sequences
of bursts in the format the top of fuzz_pipeline.c describes (burst() and
frame() below); the one-frame inputs of its earlier format (a 4-byte header,
then the frame) convert to one burst of one frame with
    python3 tests/fuzz/gen_corpus.py --convert-v1 FILE...
(in place; a folder of such inputs becomes one file of its inputs' bursts).
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


# ------------------------------------------------------------ fuzz_pipeline

# Time steps before a burst (steps_ms[] of fuzz_pipeline.c): the index.
T_0, T_1MS, T_10MS, T_1S, T_30S, T_121S, T_241S, T_7441S = range(8)


def burst(frames_, port=0, step=T_0, policy=0, neigh=False, vlan=False, stall=False,
          reader=False, worker=0, liberal=False, per_source=False, preserve=False,
          deny_drop=False, idle=False):
    """One burst of fuzz_pipeline: its 3-byte header, then its frames (frame())."""
    assert 1 <= len(frames_) <= 64
    h0 = port | step << 1 | policy << 4 | neigh << 6 | vlan << 7
    h1 = (len(frames_) - 1) | stall << 6 | reader << 7
    h2 = (worker | liberal << 1 | per_source << 2 | preserve << 3 | deny_drop << 4 |
          idle << 5)
    return bytes([h0, h1, h2]) + b"".join(frames_)


# frame(derive=...): the frame's bytes, or the burst's previous frame
OWN, COPY, NEXT_PORT, SAME_TUPLE = range(4)
# frame(addr=...): addresses as written, from the endpoint tables, a recent
# flow's 5-tuple (sel 0: the newest), its addresses only
AS_WRITTEN, TABLES, RECENT, RECENT_ADDR = range(4)


def frame(data=b"", mac=False, fix=False, offload=0, addr=AS_WRITTEN, derive=OWN, sel=0):
    """One frame of a burst: its 4-byte header, then its bytes."""
    assert len(data) < 2048
    f0 = mac | fix << 1 | offload << 2 | addr << 4 | derive << 6
    return bytes([f0, sel]) + struct.pack("!H", len(data)) + data


def convert_v1(data):
    """An input of the one-frame format (4-byte header, then the frame) as one
    burst of one frame: the same port, time step, policy, VLAN, worker and
    modes; its byte 0 bit 6 (expire and audit) is the burst's neighbour aging
    now (the sweep and the audit follow every burst)."""
    if len(data) < 4:
        return b""
    b0, b1, b2, b3 = data[:4]
    h2 = (b3 & 7) | ((b1 >> 6) & 1) << 3 | ((b1 >> 7) & 1) << 4
    f = data[4:4 + 2047]
    return bytes([b0, 0, h2, b1 & 0x3F, b2]) + struct.pack("!H", len(f)) + f


# Single frames: (byte 0, byte 1, byte 2, byte 3) of the one-frame format,
# written as one burst by convert_v1(). byte 0: 0x01 outside, 0x40 neighbour
# aging; byte 1: 0x01 our MAC, 0x02 fix checksums, 0x10 endpoint tables, 0x20
# a recent flow's 5-tuple; byte 3: 0x01 worker 1 receives it, 0x02 tcp_liberal.
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

WEB = "198.51.100.%d"          # the web-range entry: 198.51.100.0/24:443, no caps
DNS = "192.0.2.53"


def c_tcp(flags, sport, dst=REDIS, dport=6379, **kw):
    return frame(client_tcp(flags, dst=dst, dport=dport, sport=sport, **kw))


def s_tcp(flags, sel=0, src=REDIS, sport=6379, **kw):
    """A server segment to the flow of recent client frame sel (its 5-tuple)."""
    return frame(server_tcp(flags, src=src, sport=sport, **kw), addr=RECENT, sel=sel, fix=True)


def c_udp(sport, payload=b"\xab\xcd\x01\x00", dst=DNS, dport=53):
    return frame(eth(MAC_IN, MAC_CLIENT, 0x0800,
                     ipv4(CLIENT, dst, 17, udp(CLIENT, dst, sport, dport, payload))))


def s_udp(sel=0, payload=b"\xab\xcd\x81\x80"):
    return frame(eth(MAC_OUT, MAC_GW, 0x0800,
                     ipv4(DNS, NAT, 17, udp(DNS, NAT, 53, 1024, payload))),
                 addr=RECENT, sel=sel, fix=True)


def more(n, derive=NEXT_PORT, **kw):
    """n frames derived from the one before: the next source port by default."""
    return [frame(derive=derive, fix=True, **kw) for _ in range(n)]


def handshake(sport, dst, dport, step=T_0, liberal=False, **kw):
    """SYN, SYN-ACK (server seq 5000), ACK: three bursts, one established flow."""
    return [
        burst([c_tcp(SYN, sport, dst=dst, dport=dport, seq=1000, options=SYN_OPTS)],
              step=step, liberal=liberal, **kw),
        burst([s_tcp(SYN | ACK, src=dst, sport=dport, seq=5000, ack=1001,
                     options=SYN_OPTS[:4])], port=1, step=T_1MS, liberal=liberal, **kw),
        burst([c_tcp(ACK, sport, dst=dst, dport=dport, seq=1001, ack=5001)], step=T_1MS,
              liberal=liberal, **kw),
    ]


def scenarios():
    """Multi-burst inputs, each a story a review named (bursts where one frame ends a flow a later one uses)."""
    web = WEB % 7
    data = b"*1\r\n$4\r\nPING\r\n"
    sc = {}

    # A flow revoked by a publish, several of its packets in one burst: the
    # first frame ends the flow (RSTs both ways), the others must not act on
    # it (a retransmit, a FIN, then the client's new SYN on the same tuple).
    sc["burst_revoke_inside"] = b"".join(handshake(40100, web, 443) + [
        burst([c_tcp(PSH | ACK, 40100, dst=web, dport=443, seq=1001, ack=5001, payload=data),
               frame(derive=COPY),
               c_tcp(FIN | ACK, 40100, dst=web, dport=443, seq=1015, ack=5001),
               c_tcp(SYN, 40100, dst=web, dport=443, seq=77000, options=SYN_OPTS)],
              step=T_1MS, policy=3),
    ])
    # the same from the server's side (its data, a retransmit, its FIN)
    sc["burst_revoke_outside"] = b"".join(handshake(40103, web, 443) + [
        burst([s_tcp(PSH | ACK, src=web, sport=443, seq=5001, ack=1001, payload=b"+PONG\r\n"),
               frame(derive=COPY),
               s_tcp(FIN | ACK, src=web, sport=443, seq=5008, ack=1001)],
              port=1, step=T_1MS, policy=3),
    ])
    # and again, replies received by the other worker
    # (handed off to the owner, which may not run before the next burst)
    sc["burst_revoke_outside_handoff"] = b"".join(handshake(40101, web, 443) + [
        burst([s_tcp(PSH | ACK, src=web, sport=443, seq=5001, ack=1001, payload=b"+PONG\r\n"),
               frame(derive=COPY),
               s_tcp(FIN | ACK, src=web, sport=443, seq=5008, ack=1001)],
              port=1, step=T_1MS, policy=3, worker=1, stall=True),
        burst([c_tcp(ACK, 40101, dst=web, dport=443, seq=1001, ack=5009)], step=T_1MS,
              policy=3),
    ])
    # republished rules: the flows are re-checked and kept, in the same burst
    sc["burst_recheck_kept"] = b"".join(handshake(40102, REDIS, 6379) + [
        burst([c_tcp(PSH | ACK, 40102, seq=1001, ack=5001, payload=data), frame(derive=COPY)],
              step=T_1MS, policy=1),
        burst([s_tcp(ACK, seq=5001, ack=1015), frame(derive=COPY)], port=1, step=T_1MS,
              policy=2),
    ])

    # Embryonic eviction: 24 SYNs fill the cap (24 per worker); in the next
    # burst a new SYN evicts the oldest, whose retransmit and ACK follow in
    # the same burst (its flow was looked up before the eviction), then the
    # retransmit of the next one it evicts in turn.
    first = c_tcp(SYN, 41000, dst=web, dport=443, seq=1000, options=SYN_OPTS)
    sc["burst_embryonic_evict_retransmit"] = b"".join([
        burst([first] + more(23)),
        burst([c_tcp(SYN, 41100, dst=web, dport=443, seq=1000, options=SYN_OPTS),
               first,
               c_tcp(ACK, 41000, dst=web, dport=443, seq=1001, ack=5001),
               c_tcp(SYN, 41001, dst=web, dport=443, seq=1000, options=SYN_OPTS),
               frame(derive=COPY)], step=T_1MS),
        # the survivors answered: SYN-ACKs to the newest eight
        burst([s_tcp(SYN | ACK, sel=0, src=web, sport=443, seq=5000, ack=1001)] +
              [frame(derive=COPY, addr=RECENT, sel=k, fix=True) for k in range(1, 8)],
              port=1, step=T_1MS),
    ])
    # the same with UDP: flows nobody answered are embryonic too
    sc["burst_embryonic_evict_udp"] = b"".join([
        burst([c_udp(5300)] + more(23)),
        burst([c_udp(5400), c_udp(5300), frame(derive=COPY), c_udp(5301)], step=T_1MS),
    ])

    # SYN on TIME_WAIT (a new connection on the old 5-tuple, RFC 6191), with
    # its retransmit and the old connection's last ACK in the same burst;
    # then a RST and a SYN in one burst (CLOSED, reopened at once); then a SYN
    # after time_wait and the sweep (quarantine over).
    sc["burst_syn_on_time_wait"] = b"".join(handshake(42000, REDIS, 6379) + [
        burst([c_tcp(PSH | ACK, 42000, seq=1001, ack=5001, payload=data)], step=T_1MS),
        burst([s_tcp(PSH | ACK, seq=5001, ack=1015, payload=b"+PONG\r\n"),
               s_tcp(FIN | ACK, seq=5008, ack=1015)], port=1, step=T_1MS),
        burst([c_tcp(ACK, 42000, seq=1015, ack=5009),
               c_tcp(FIN | ACK, 42000, seq=1015, ack=5009)], step=T_1MS),
        burst([s_tcp(ACK, seq=5009, ack=1016)], port=1, step=T_1MS),
        burst([c_tcp(SYN, 42000, seq=90000, options=SYN_OPTS), frame(derive=COPY),
               c_tcp(ACK, 42000, seq=1016, ack=5009)], step=T_1S),
        burst([s_tcp(SYN | ACK, seq=7000, ack=90001, options=SYN_OPTS[:4])], port=1,
              step=T_1MS),
        burst([c_tcp(RST, 42000, seq=90001), c_tcp(SYN, 42000, seq=91000, options=SYN_OPTS),
               frame(derive=COPY)], step=T_1MS),
        burst([c_tcp(SYN, 42000, seq=95000, options=SYN_OPTS)], step=T_241S),
        burst([c_tcp(SYN, 42000, seq=96000, options=SYN_OPTS)], step=T_121S),
    ])
    # under flows.per_source: the reopened SYNs take the client's rate
    sc["burst_syn_on_time_wait_per_source"] = b"".join(
        handshake(42100, web, 443, per_source=True) + [
            burst([c_tcp(RST if k % 2 == 0 else SYN, 42100, dst=web, dport=443,
                         seq=200000 + 1000 * k, options=b"" if k % 2 == 0 else SYN_OPTS)
                   for k in range(32)], step=T_1MS, per_source=True, liberal=True),
        ])

    # UDP floods at the embryonic cap: 64 new flows a burst, the oldest
    # evicted; 24 answered (established, never evicted) before the next flood,
    # then the same from one client under flows.per_source.
    sc["burst_udp_flood_embryonic_cap"] = b"".join([
        burst([c_udp(6000)] + more(63)),
        burst([s_udp(sel=0)] + [frame(derive=COPY, addr=RECENT, sel=k, fix=True)
                                for k in range(1, 24)], port=1, step=T_1MS),
        burst([c_udp(7000)] + more(63), step=T_1MS),
        burst([c_udp(7100)] + more(63), step=T_1MS, worker=1),
        burst([c_udp(8000, dst="192.0.2.99")] + more(63), step=T_1S, policy=2,
              per_source=True),
        burst([c_udp(9000)] + more(63), step=T_241S),
        burst([c_udp(9100)] + more(63), step=T_241S, idle=True),
    ])

    # A full table (64 flows per worker): three groups of 24 handshakes (to
    # three destinations: 64 NAT bindings per destination and worker), the
    # third only partly admitted; more SYNs; then time past every timeout
    # while the telemetry reader holds the grace periods (the slots stay in
    # limbo); then the reader lets go and the slots are reused.
    full = []
    for g in range(3):
        dst = WEB % (10 + g)
        base = 43000 + 100 * g
        full += [
            burst([c_tcp(SYN, base, dst=dst, dport=443, seq=1000, options=SYN_OPTS)] + more(23),
                  step=T_1MS, liberal=True),
            burst([s_tcp(SYN | ACK, sel=0, src=dst, sport=443, seq=5000, ack=1001)] +
                  [frame(derive=COPY, addr=RECENT, sel=k, fix=True) for k in range(1, 24)],
                  port=1, step=T_1MS, liberal=True),
            burst([c_tcp(ACK, base, dst=dst, dport=443, seq=1001, ack=5001)] + more(23),
                  step=T_1MS, liberal=True),
        ]
    syns = [c_tcp(SYN, 44000, dst=WEB % 20, dport=443, seq=1000, options=SYN_OPTS)] + more(23)
    full += [
        burst(syns, step=T_1MS),
        burst(syns, step=T_7441S, reader=True),
        burst(syns, step=T_121S, reader=True),
        burst(syns, step=T_1MS, reader=True),
        burst(syns, step=T_1MS),
        burst(syns, step=T_1MS),
    ]
    sc["burst_full_table"] = b"".join(full)
    # a full table revoked wholesale by a publish while a burst of SYNs
    # arrives: deletions, RSTs and new flows in one burst
    sc["burst_full_table_revoke"] = b"".join(full[:9] + [
        burst(syns, step=T_1MS, policy=2),
        burst([c_tcp(ACK, 43000, dst=WEB % 10, dport=443, seq=1001, ack=5001)] + more(23),
              step=T_1MS, policy=3),
    ])

    # Too big for the next hop's MTU (outside 1400, inside 1500), behind the
    # handshake in the same burst: fragmentation needed (DF) to the sender.
    sc["burst_too_big"] = b"".join(handshake(46000, web, 443, liberal=True)[:2] + [
        burst([c_tcp(ACK, 46000, dst=web, dport=443, seq=1001, ack=5001),
               c_tcp(PSH | ACK, 46000, dst=web, dport=443, seq=1001, ack=5001,
                     payload=b"x" * 1400),
               c_tcp(PSH | ACK, 46000, dst=web, dport=443, seq=1001, ack=5001,
                     payload=b"y" * 1300)], step=T_1MS, liberal=True),
        burst([s_tcp(PSH | ACK, src=web, sport=443, seq=5001, ack=1001, payload=b"z" * 1480),
               s_tcp(PSH | ACK, src=web, sport=443, seq=5001, ack=1001, payload=b"z" * 1400)],
              port=1, step=T_1MS, liberal=True),
    ])

    # Outside replies received by worker 1 for worker 0's flows while worker
    # 0 is stalled: they wait in its ring behind more, and its next loop
    # takes its own burst first, then them.
    sc["burst_handoff_stalled_owner"] = b"".join([
        burst([c_tcp(SYN, 45000, dst=web, dport=443, seq=1000, options=SYN_OPTS)] + more(7),
              liberal=True),
        burst([s_tcp(SYN | ACK, sel=0, src=web, sport=443, seq=5000, ack=1001)] +
              [frame(derive=COPY, addr=RECENT, sel=k, fix=True) for k in range(1, 8)],
              port=1, step=T_1MS, worker=1, stall=True, liberal=True),
        burst([s_tcp(RST, sel=k, src=web, sport=443, seq=5001) for k in range(4)],
              port=1, step=T_1MS, worker=1, stall=True, liberal=True),
        burst([c_tcp(ACK, 45000, dst=web, dport=443, seq=1001, ack=5001)] + more(7),
              step=T_1MS, liberal=True),
    ])
    return sc


def client_hello(name, before=0, version=0x0303):
    """A TLS ClientHello record (RFC 8446 4.1.2) naming `name` (SNI, RFC 6066)."""
    def u16(v):
        return struct.pack(">H", v)
    exts = b""
    if before:
        exts += u16(21) + u16(before) + bytes(before)      # padding
    if name is not None:
        n = name.encode()
        entry = b"\x00" + u16(len(n)) + n
        exts += u16(0) + u16(len(entry) + 2) + u16(len(entry)) + entry
    exts += u16(43) + u16(3) + b"\x02\x03\x04"         # supported_versions
    body = (u16(version) + bytes(range(32)) + b"\x20" + bytes(32) + u16(4) +
            b"\x13\x01\xc0\x2f" + b"\x01\x00" + u16(len(exts)) + exts)
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + u16(len(hs)) + hs


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


KEPT = ("found-", "finding-", "regress-")


def convert_files(paths):
    """--convert-v1: one-frame inputs of fuzz_pipeline, rewritten as bursts."""
    for p in paths:
        if os.path.isdir(p):
            parts = [os.path.join(p, n) for n in sorted(os.listdir(p))]
            data = b""
            for q in parts:
                with open(q, "rb") as fh:
                    data += convert_v1(fh.read())
            shutil.rmtree(p)
        else:
            with open(p, "rb") as fh:
                data = convert_v1(fh.read())
        with open(p, "wb") as fh:
            fh.write(data)
        print("%s: %d bytes" % (p, len(data)))
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--convert-v1":
        return convert_files(sys.argv[2:])
    # found-*: inputs the fuzzers found (merged with -merge=1); finding-*,
    # regress-*: reproducers kept as regressions. Kept as they are.
    for dp, _, ns in os.walk(OUT):
        for n in ns:
            if not n.startswith(KEPT):
                os.remove(os.path.join(dp, n))
    f = frames()
    for name, data in f.items():
        write("pkt", name, data)
    for name, data in (("hello", client_hello("test.example")),
                       ("hello-padded", client_hello("redis.memorystore.example.com", 200)),
                       ("hello-no-sni", client_hello(None, 16)),
                       ("hello-split", client_hello("test.example", 100)[:120])):
        write("sni", name, data)
    for name, hdr in PIPELINE.items():
        write("pipeline", name, convert_v1(bytes(hdr) + f[name]))
    for fname, name, hdr in PIPELINE_EXTRA:
        write("pipeline", name, convert_v1(bytes(hdr) + f[fname]))
    for name, data in scenarios().items():
        assert len(data) <= 16384, name   # INPUT_MAX of fuzz_pipeline.c
        write("pipeline", name, data)
    for t in ("yaml", "config", "istio"):
        os.makedirs(os.path.join(OUT, t), exist_ok=True)
    copy_yaml("yaml", ["config/memorystore/egressd.yaml", "config/memorystore/policy",
                       "tests/data/istio/valid/list.yaml", "tests/data/istio/valid/mixed.yaml",
                       "tests/data/istio/parity/yaml/valid", "tests/data/istio/parity/yaml/invalid"])
    # colons go-yaml keeps in flow scalars, beside colons it does not (ycolon.c)
    write("yaml", "flow-colons.yaml",
          b'c: "[q:]" # [r:]\ns: |\n  [t:]\ne: [v:, it\'s:, a :, !!str w:]\n'
          b'j: {"k":[x:]}\nm: {k: v:, n:}\nx: [::1, [a:[b]]]\n')
    copy_yaml("config", ["config/memorystore/egressd.yaml", "config/baremetal.yaml",
                         "config/pcap-bench.yaml", "config/sriov-vm.yaml",
                         "config/virtio-vm.yaml", "config/af-xdp.yaml"])
    copy_yaml("istio", ["config/memorystore/policy", "tests/data/istio/valid"])
    total = sum(os.path.getsize(os.path.join(dp, n))
                for dp, _, ns in os.walk(OUT) for n in ns)
    print("corpus: %d bytes in %s" % (total, os.path.relpath(OUT, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
