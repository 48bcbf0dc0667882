#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# egressd's ports on virtio-user against vhost-user: net_virtio_user0/1
# (path=SOCK, queues=1) whose peers are net_vhost0/1 in a second DPDK process,
# dpdk-testpmd, that bridges them to the Memorystore topology's veths
# (lib.sh live_vhost_bridge_up; every DPDK process --no-huge, --no-pci, its
# own --file-prefix: virtio-user shares its --no-huge memory with the vhost
# side by file descriptor, nothing else is needed on DPDK 22.11). Two runs:
#   - "on": TX checksum offload negotiated (egressd logs "tx tcp/udp checksum
#     on" for both ports: virtio offers TCP/UDP, not the IPv4 header);
#   - "off": checksum_offload: false on both ports (logged "off");
# each: PING answers PONG through egressd, 64 KiB SET / GET back intact, and a
# SYN crafted in the mesh (fixed addresses, ports, IP id, sequence; NAT
# port_alloc: preserve) is captured on the external veth: its IPv4 and TCP
# checksums verified, and the frame is byte for byte the same in both runs.
# (The bridge completes checksums a guest leaves to the host, as a
# hypervisor does; egressd's pseudo-header sums are checked against software
# in the pipeline test, test_tx_checksum_offload.)
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no netns, no dpdk-testpmd).
set -euo pipefail
export LIVE_PMD=virtio

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
live_require dpdk-testpmd
live_topology_up

SPORT=47001
FRAME_on=""
FRAME_off=""
cat >"$LIVE_TMP/frames.py" <<'PY'
# python3 frames.py send IFACE DST_MAC SPORT: one SYN frame on IFACE (fixed
#   addresses, IP id, sequence), checksums computed here;
# python3 frames.py catch IFACE SPORT SECONDS: print the first IPv4/TCP frame
#   from SPORT seen on IFACE as hex, its checksums verified (exit 1 if bad).
import socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def send(iface, dst, sport):
    dst = bytes.fromhex(dst.replace(":", ""))
    src = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
    sip, dip = socket.inet_aton("10.8.0.2"), socket.inet_aton("10.59.118.59")
    tcp = struct.pack("!HHIIBBHHH", int(sport), 6379, 0x01020304, 0, 5 << 4, 0x02, 64240, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", csum(sip + dip + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0x4242, 0x4000, 64, 6, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(dst + src + b"\x08\x00" + ip + tcp)

def catch(iface, sport, secs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((iface, 0))
    print("listening", flush=True)
    end = time.time() + float(secs)
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            f = s.recv(65535)
        except socket.timeout:
            break
        if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6:
            continue
        ihl = (f[14] & 15) * 4
        ip, l4 = f[14:14 + ihl], f[14 + ihl:14 + struct.unpack("!H", f[16:18])[0]]
        if struct.unpack("!H", l4[0:2])[0] != int(sport):
            continue
        ok_ip = csum(ip) == 0
        ok_tcp = csum(ip[12:20] + struct.pack("!BBH", 0, 6, len(l4)) + l4) == 0
        print(f"frame {f.hex()} ip_cksum={'ok' if ok_ip else 'BAD'} tcp_cksum={'ok' if ok_tcp else 'BAD'}")
        sys.exit(0 if ok_ip and ok_tcp else 1)
    print("no frame")
    sys.exit(1)

{"send": send, "catch": catch}[sys.argv[1]](*sys.argv[2:])
PY

# run MODE: one egressd with checksum offload on or off; sets FRAME_<MODE>.
run() {
	local mode=$1 conf dir="$LIVE_TMP/$1" out rc=0 catcher data back want
	conf=$(live_write_config "$dir" "$LIVE_REPO/config/memorystore/policy")
	printf 'nat: { port_alloc: preserve }\n' >>"$conf"
	if [[ "$mode" == off ]]; then
		sed -i -e "s|address: $LIVE_INSIDE_ADDR/$LIVE_INSIDE_PREFIX }|address: $LIVE_INSIDE_ADDR/$LIVE_INSIDE_PREFIX, checksum_offload: false }|" \
			-e "s|gateway: $LIVE_EXT_ADDR }|gateway: $LIVE_EXT_ADDR, checksum_offload: false }|" "$conf"
		[[ "$(grep -c 'checksum_offload: false' "$conf")" == 2 ]] ||
			live_die "$mode: config not rewritten"
	fi
	live_start_egressd "$conf" || live_die "$mode: egressd ready on virtio-user ports"
	live_pass "$mode: egressd ready on virtio-user ports"
	want=on
	[[ "$mode" == off ]] && want=off
	live_check "$mode: both ports log tx tcp/udp checksum $want" \
		test "$(grep -c "net_virtio_user[01],.*offloads: .*tx tcp/udp checksum $want" "$EGRESSD_ERR")" = 2
	live_check "$mode: PING through virtio/vhost answers PONG" \
		redis_ping "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT"
	data="$dir/bulk.txt"
	back="$dir/bulk.back"
	head -c 49152 /dev/urandom | base64 -w 0 >"$data"
	mesh_exec timeout 10 redis-cli -h "$LIVE_REDIS_HOST" -p "$LIVE_REDIS_PORT" \
		-x SET egressd:virtio <"$data" >/dev/null 2>&1 || true
	mesh_exec timeout 10 redis-cli -h "$LIVE_REDIS_HOST" -p "$LIVE_REDIS_PORT" \
		--raw GET egressd:virtio >"$back" 2>&1 || true
	live_check "$mode: 64 KiB SET and GET back intact" cmp -s <(cat "$data" && echo) "$back"

	out="$dir/catch.out"
	ip netns exec "$LIVE_EXT_NS" python3 "$LIVE_TMP/frames.py" catch "$LIVE_OUT_PEER" "$SPORT" 8 >"$out" 2>&1 &
	catcher=$!
	live_track_pid "$catcher"
	bench_wait_for "$out" listening "$catcher" 5 || true
	ip netns exec "$LIVE_MESH_NS" python3 "$LIVE_TMP/frames.py" send "$LIVE_IN_PEER" 02:00:00:00:e0:00 "$SPORT"
	wait "$catcher" || rc=$?
	sed 's/^/  /' "$out"
	live_check "$mode: the crafted SYN leaves NATed with valid IPv4 and TCP checksums" test "$rc" = 0
	printf -v "FRAME_$mode" '%s' "$(sed -n 's/^frame \([0-9a-f]*\) .*/\1/p' "$out")"
	live_check "$mode: egressd stops on SIGTERM with status 0" live_stop_egressd
}

run on
run off
echo "  on:  $FRAME_on"
echo "  off: $FRAME_off"
live_check "the SYN's frame is identical with checksum offload on and off" \
	test -n "$FRAME_on" -a "$FRAME_on" = "$FRAME_off"
live_check "its source is the NAT address and the client's port (preserve), TTL 63" \
	test "${FRAME_on:44:2}/${FRAME_on:52:8}/${FRAME_on:68:4}" = "3f/cb00710a/$(printf %04x "$SPORT")"
live_finish
