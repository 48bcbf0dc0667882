#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live: the control-plane exception path (doc/operations.md). egressd's
# outside port lists tcp/179 (BGP) and udp/3784 (BFD) under `exception:`
#   - udp/3784 lies inside the default nat.ports on the outside address, a
#     NAT address: egressd starts, and logs that the NAT skips it;
# egressd creates the
# TAP egh<sfx> with the outside address 203.0.113.10/24; the test moves it
# into a "host" namespace eghn<sfx> (as an operator may, for a routing
# daemon of its own; the move drops the address: it is given again), where
# a TCP echo server listens on 203.0.113.10:179, and another on :180.
#   - egressd gave the TAP the port's address, prefix and MTU;
#   - from the external namespace (203.0.113.1) a connection to
#     203.0.113.10:179 completes its handshake through egressd and the TAP,
#     and data sent comes back (three sessions);
#   - one SYN to 203.0.113.10:180 (unlisted; the host listens there too)
#     is dropped as without the exception path: no_flow + 1 exactly, no
#     answer, the host never sees it;
#   - exact counters: every frame the workers queued went to the TAP
#     (exception_queued = exception_to_host), none dropped either way, the
#     host's kernel received exactly exception_to_host IPv4 packets and sent
#     exactly exception_from_host (its Ip InReceives / OutRequests: the host
#     namespace has no other traffic), it asked egressd by ARP for the peer
#     (exception_arp_replies >= 1);
#   - ICMP echo to 203.0.113.10 is still answered by egressd (echo_replies).
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no netns support).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

live_require
live_topology_up
TAP=egh$LIVE_SFX
HOST_NS=eghn$LIVE_SFX

host_exec() {
	ip netns exec "$HOST_NS" "$@"
}

# The host's TCP echo server on ADDR:PORT (every connection, one at a time),
# waited for until it listens. A simple command in the background: $! is
# the interpreter (ip netns exec execs it).
start_echo_server() {
	local pid
	ip netns exec "$HOST_NS" python3 - "$1" "$2" >"$LIVE_TMP/echo-$2.log" 2>&1 <<-'PY' &
	import socket
	import sys

	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind((sys.argv[1], int(sys.argv[2])))
	s.listen(8)
	print("listening", flush=True)
	while True:
	    c, peer = s.accept()
	    data = c.recv(4096)
	    c.sendall(data)
	    c.close()
	PY
	pid=$!
	live_track_pid "$pid"
	bench_wait_for "$LIVE_TMP/echo-$2.log" '^listening' "$pid" 5
}

# A session from the external namespace: connect, send, read it back.
echo_session() {
	ext_exec timeout 5 python3 - "$LIVE_NAT_ADDR" 179 "$1" <<-'PY'
	import socket
	import sys

	c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=4)
	c.sendall(sys.argv[3].encode())
	got = c.recv(4096).decode()
	c.close()
	print("  sent %r, got %r" % (sys.argv[3], got))
	sys.exit(0 if got == sys.argv[3] else 1)
	PY
}

# raw.py syn SRC DST PORT: one bare SYN (a raw socket: exactly one frame).
# raw.py echo DST: one ICMP echo request; exit 0 when its reply comes.
write_raw_py() {
	cat >"$LIVE_TMP/raw.py" <<-'PY'
	import socket
	import struct
	import sys


	def csum(b):
	    if len(b) % 2:
	        b += b"\0"
	    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	    while s >> 16:
	        s = (s & 0xFFFF) + (s >> 16)
	    return ~s & 0xFFFF


	def syn(src, dst, dport):
	    tcp = struct.pack("!HHIIBBHHH", 40180, dport, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
	    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
	    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
	    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
	    s.sendto(tcp, (dst, 0))


	def echo(dst):
	    msg = struct.pack("!BBHHH", 8, 0, 0, 0x4567, 1) + b"egressd-echo-abc"
	    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
	    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
	    s.settimeout(2)
	    s.sendto(msg, (dst, 0))
	    try:
	        while True:
	            pkt, peer = s.recvfrom(2048)
	            icmp = pkt[(pkt[0] & 0xF) * 4:]
	            if peer[0] == dst and icmp[0] == 0 and icmp[4:6] == b"\x45\x67":
	                return 0
	    except socket.timeout:
	        print("  no echo reply")
	        return 1


	if sys.argv[1] == "syn":
	    syn(sys.argv[2], sys.argv[3], int(sys.argv[4]))
	else:
	    sys.exit(echo(sys.argv[2]))
	PY
}

send_one_syn() {
	ext_exec python3 "$LIVE_TMP/raw.py" syn "$LIVE_EXT_ADDR" "$LIVE_NAT_ADDR" "$1"
}

echo_request() {
	ext_exec python3 "$LIVE_TMP/raw.py" echo "$LIVE_NAT_ADDR"
}

# snmp FIELD: the host namespace's /proc/net/snmp Ip counter FIELD.
snmp() {
	host_exec awk -v f="$1" '/^Ip:/ { if (!n++) { for (i = 1; i <= NF; i++) h[i] = $i } else { for (i = 1; i <= NF; i++) if (h[i] == f) print $i } }' /proc/net/snmp
}

# counter KEY: the final JSON's largest KEY (live_json_counter).
counter() {
	live_json_counter "$EGRESSD_FINAL_JSON" "$1"
}

write_raw_py
conf=$(live_write_config "$LIVE_TMP/exc" "$LIVE_REPO/config/memorystore/policy")
sed -i -e "s|gateway: $LIVE_EXT_ADDR }|gateway: $LIVE_EXT_ADDR,\n             exception: { tap: $TAP, protocols: [tcp/179, udp/3784] } }|" "$conf"
grep -q "exception: { tap: $TAP" "$conf" || live_die "config not rewritten for the exception path"
live_start_egressd "$conf" || live_die "egressd ready with an exception TAP"
live_pass "egressd ready with an exception TAP"
live_check "udp/3784 inside the default nat.ports on the NAT address: skipped by the NAT, said at start" \
	grep -qF "NAT ports: never bound on $LIVE_NAT_ADDR: udp/3784 (the exception path's, inside nat.ports 1024-65535)" "$EGRESSD_OUT" "$EGRESSD_ERR"

live_check "egressd gave $TAP the outside address $LIVE_NAT_ADDR/$LIVE_OUTSIDE_PREFIX" \
	bash -c 'ip -4 -o addr show dev "$1" | grep -q " $2 "' _ "$TAP" "$LIVE_NAT_ADDR/$LIVE_OUTSIDE_PREFIX"
live_check "egressd gave $TAP the port's MTU (1500)" \
	bash -c 'ip -o link show dev "$1" | grep -q " mtu 1500 "' _ "$TAP"

live_netns_add "$HOST_NS" || live_die "ip netns add $HOST_NS"
ip link set dev "$TAP" netns "$HOST_NS" || live_die "move $TAP into $HOST_NS"
ip -n "$HOST_NS" addr add "$LIVE_NAT_ADDR/$LIVE_OUTSIDE_PREFIX" dev "$TAP"
ip -n "$HOST_NS" link set dev "$TAP" up
start_echo_server "$LIVE_NAT_ADDR" 179 || live_die "the host's echo server on :179"
start_echo_server "$LIVE_NAT_ADDR" 180 || live_die "the host's echo server on :180"

for i in 1 2 3; do
	live_check "session $i: the external peer's connection to $LIVE_NAT_ADDR:179 completes through the TAP and echoes" \
		echo_session "bgp-open-$i"
done
live_check "an echo request to $LIVE_NAT_ADDR is still answered (by egressd)" \
	echo_request
send_one_syn 180
sleep 1

in_receives=$(snmp InReceives)
out_requests=$(snmp OutRequests)
live_stop_egressd || live_fail "egressd stopped on SIGTERM with status 0 (status ${EGRESSD_RC:-?})"
echo "  final line: ${EGRESSD_FINAL_JSON:0:600}"
echo "  host namespace: Ip InReceives $in_receives, OutRequests $out_requests"
queued=$(counter exception_queued)
to_host=$(counter exception_to_host)
from_host=$(counter exception_from_host)
live_check "frames queued for the TAP: at least a handshake, data and close per session (queued $queued >= 12)" \
	test "${queued:-0}" -ge 12
live_check "every queued frame went to the TAP (to_host $to_host = queued $queued)" \
	test "${to_host:-x}" = "${queued:-y}"
live_check "the host received exactly what egressd wrote to the TAP (InReceives $in_receives = to_host $to_host)" \
	test "$in_receives" = "${to_host:-x}"
live_check "egressd sent on exactly what the host sent (from_host $from_host = OutRequests $out_requests)" \
	test "${from_host:-x}" = "$out_requests"
live_check "no exception frame dropped by the workers (exception_dropped 0)" \
	test "$(counter exception_dropped)" = 0
live_check "none dropped by the control thread (exception_host_dropped 0)" \
	test "$(counter exception_host_dropped)" = 0
live_check "the host asked egressd by ARP for its peer (exception_arp_replies >= 1)" \
	test "$(counter exception_arp_replies)" -ge 1
live_check "the one SYN to the unlisted tcp/180 was dropped as no_flow (exactly 1)" \
	test "$(counter no_flow)" = 1
live_check "egressd answered the echo request itself (echo_replies 1)" \
	test "$(counter echo_replies)" = 1
live_finish
