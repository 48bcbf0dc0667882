#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The pipeline on pcaps, through the real binary: egress-gen writes a small
# capture, egressd replays it once from net_pcap vdevs created by EAL --vdev
# (and adopted by name from the config's `device:`), and exits by itself
# with --exit-when-idle. No NIC, no namespace, no hugepages.
#
#   inside capture: 8 clients' ARP requests for 10.8.0.1, then 120 SYNs:
#     100 to 10.59.118.59:6379 (allowed by the seed's ServiceEntry), 20 to
#     :6380 (denied); outside capture: the gateway's ARP requests for
#     203.0.113.10 (as many as the clients'). The gateway's MAC is a static
#     neighbour (no ARP answers in a replay).
#
# Checks:
#   - egressd exits 0 by itself (--exit-when-idle 500) and prints one JSON line;
#   - its counters: flows_created == 100, drops.policy_denied == 20 and no
#     other drop, ports.inside.rx == the frames in the inside capture,
#     ports.outside.rx == the frames in the outside capture, arp_replies == 16;
#   - the outside transmissions: exactly the 100 allowed SYNs (plus 8 ARP
#     replies), each from net_pcap1's MAC to the gateway's, source NATed to
#     203.0.113.10 with the client's own port (port_alloc: preserve), to the
#     original destination, same sequence number, TTL decremented by one,
#     IPv4 and TCP checksums valid (verified here, in Python, independently);
#   - the inside transmissions: the 8 ARP replies, nothing else.
#
# Exit: 0 pass, 1 fail, 77 skip (no net_pcap PMD, no python3; under CI=true
# they are installed or the test fails, see lib.sh).
# Environment: EGRESSD (default <repo>/build/app/egressd/egressd),
#   EGRESS_GEN (default: app/gen/egress-gen of the same build), KEEP=1 keeps
#   the temporary folder.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # checks, skips, net_pcap
REPO=$LIVE_REPO
EGRESS_GEN=${EGRESS_GEN:-$(dirname "$EGRESSD")/../gen/egress-gen}
NAME=$(basename "$0" .sh)

ALLOWED=100
DENIED=20
CLIENTS=8
GW_MAC=02:00:cb:00:71:01
# net_pcap gives its ports 02:70:63:61:70:<n>, n counting the net_pcap
# devices of the process in creation order (DPDK 22.11 drivers/net/pcap):
# net_pcap0 then net_pcap1 on the command line are :00 and :01.
IN_MAC=02:70:63:61:70:00
OUT_MAC=02:70:63:61:70:01

TMP=""
PREFIX="egpcap$$"
EGRESSD_PID=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [[ -n "$EGRESSD_PID" ]] && kill -0 "$EGRESSD_PID" 2>/dev/null; then
		kill -s KILL "$EGRESSD_PID" 2>/dev/null
		wait "$EGRESSD_PID" 2>/dev/null
	fi
	rm -rf "/var/run/dpdk/$PREFIX"
	if [[ -n "$TMP" && -d "$TMP" ]]; then
		if [[ "${KEEP:-0}" == 1 ]]; then
			echo "# kept $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
	exit "$rc"
}

write_config() {
	mkdir -p "$TMP/policy"
	cp "$REPO"/config/memorystore/policy/*.yaml "$TMP/policy/"
	cat >"$TMP/egressd.yaml" <<-EOF
	# $NAME: the vdevs come from EAL --vdev; egressd adopts them by name
	ports:
	  inside:  { device: "net_pcap0", address: 10.8.0.1/16 }
	  outside: { device: "net_pcap1", address: 203.0.113.10/24, gateway: 203.0.113.1,
	             neighbors: { 203.0.113.1: "$GW_MAC" } }
	nat:
	  addresses: [203.0.113.10]
	  ports: 1024-65535
	  port_alloc: preserve
	policy:
	  outbound: REGISTRY_ONLY
	  deny: drop
	  sources: [policy/]
	flows:
	  max: 65536
	workers: 1
	EOF
}

# The checks on the counters and on both transmitted captures, in Python with
# struct only: every checksum is recomputed here from the bytes.
verify() {
	python3 - "$TMP" "$ALLOWED" "$DENIED" "$CLIENTS" "$GW_MAC" "$IN_MAC" "$OUT_MAC" <<-'PY'
	import json
	import struct
	import sys

	tmp, allowed, denied, clients = sys.argv[1], *map(int, sys.argv[2:5])
	gw_mac, in_mac, out_mac = (bytes.fromhex(m.replace(":", "")) for m in sys.argv[5:8])
	NAT = bytes([203, 0, 113, 10])
	fails = 0

	def check(ok, what):
	    global fails
	    print(("PASS: " if ok else "FAIL: ") + what)
	    fails += 0 if ok else 1

	def frames(path):
	    with open(path, "rb") as f:
	        data = f.read()
	    magic = struct.unpack("<I", data[:4])[0]
	    if magic in (0xA1B2C3D4, 0xA1B23C4D):
	        end = "<"
	    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
	        end = ">"
	    else:
	        raise ValueError(f"{path}: not a pcap file")
	    off, out = 24, []
	    while off + 16 <= len(data):
	        _, _, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
	        out.append(data[off + 16:off + 16 + caplen])
	        off += 16 + caplen
	    return out

	def csum(b):
	    if len(b) % 2:
	        b += b"\0"
	    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
	    while s >> 16:
	        s = (s & 0xFFFF) + (s >> 16)
	    return s

	def tcp_of(fr):
	    """(ip header, tcp segment) of an IPv4/TCP frame, else None."""
	    if len(fr) < 54 or fr[12:14] != b"\x08\x00" or fr[23] != 6:
	        return None
	    ihl = (fr[14] & 15) * 4
	    ip_len = struct.unpack("!H", fr[16:18])[0]
	    return fr[14:14 + ihl], fr[14 + ihl:14 + ip_len]

	def tcp_ok(ip, seg):
	    pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(seg))
	    return csum(pseudo + seg) == 0xFFFF

	# --- counters
	out_lines = [l for l in open(f"{tmp}/egressd.out") if l.lstrip().startswith("{")]
	check(len(out_lines) == 1, f"one JSON line on stdout (found {len(out_lines)})")
	if not out_lines:
	    sys.exit(1)
	js = json.loads(out_lines[-1])
	n_in, n_out = len(frames(f"{tmp}/in.pcap")), len(frames(f"{tmp}/out.pcap"))
	drops = {k: v for k, v in js["drops"].items() if v}
	check(js["flows_created"] == allowed, f"flows_created == {allowed} (is {js['flows_created']})")
	check(js["drops"]["policy_denied"] == denied,
	      f"drops.policy_denied == {denied} (is {js['drops']['policy_denied']})")
	check(drops == {"policy_denied": denied}, f"no other drop reason counted ({drops})")
	check(js["ports"]["inside"]["rx"] == n_in,
	      f"ports.inside.rx == {n_in} frames written (is {js['ports']['inside']['rx']})")
	check(js["ports"]["outside"]["rx"] == n_out,
	      f"ports.outside.rx == {n_out} frames written (is {js['ports']['outside']['rx']})")
	check(js["arp_replies"] == 2 * clients,
	      f"arp_replies == {2 * clients} (is {js['arp_replies']})")
	check(js["ports"]["outside"]["tx"] == allowed + clients,
	      f"ports.outside.tx == {allowed + clients} (is {js['ports']['outside']['tx']})")

	# --- what the clients sent: allowed SYNs by client port
	sent = {}
	for fr in frames(f"{tmp}/in.pcap"):
	    t = tcp_of(fr)
	    if t is None:
	        continue
	    ip, seg = t
	    sport, dport, seq = struct.unpack("!HHI", seg[:8])
	    if dport == 6379:
	        sent[sport] = (ip, seg)
	check(len(sent) == allowed, f"the capture holds {allowed} allowed SYNs (has {len(sent)})")

	# --- outside transmissions
	txo = frames(f"{tmp}/txout.pcap")
	syns = [f for f in txo if tcp_of(f) is not None]
	arps = [f for f in txo if f[12:14] == b"\x08\x06"]
	check(len(syns) == allowed and len(arps) == clients,
	      f"outside sent {allowed} TCP frames and {clients} ARP replies "
	      f"(sent {len(syns)} TCP, {len(arps)} ARP, {len(txo)} in all)")
	bad, seen = [], set()
	for fr in syns:
	    ip, seg = tcp_of(fr)
	    sport, dport, seq = struct.unpack("!HHI", seg[:8])
	    why = []
	    if fr[0:6] != gw_mac or fr[6:12] != out_mac:
	        why.append(f"MACs {fr[6:12].hex(':')} -> {fr[0:6].hex(':')}")
	    if ip[12:16] != NAT:
	        why.append(f"source {'.'.join(map(str, ip[12:16]))}")
	    if csum(ip) != 0xFFFF:
	        why.append("IPv4 checksum")
	    if not tcp_ok(ip, seg):
	        why.append("TCP checksum")
	    if seg[13] != 0x02:
	        why.append(f"flags {seg[13]:#x}")
	    orig = sent.get(sport)
	    if orig is None:
	        why.append(f"port {sport} is no client's port (not preserved)")
	    else:
	        oip, oseg = orig
	        if ip[8] != oip[8] - 1:
	            why.append(f"TTL {ip[8]}, sent with {oip[8]}")
	        if ip[16:20] != oip[16:20] or dport != 6379:
	            why.append("destination changed")
	        if seg[4:8] != oseg[4:8]:
	            why.append("sequence number changed")
	        if len(seg) != len(oseg) or seg[20:] != oseg[20:]:
	            why.append("options or payload changed")
	    if sport in seen:
	        why.append("sent twice")
	    seen.add(sport)
	    if why:
	        bad.append(f"{sport}: {', '.join(why)}")
	check(not bad and len(seen) == allowed,
	      f"every outside SYN: {out_mac.hex(':')} -> gateway, from 203.0.113.10 with the "
	      f"client's port, TTL - 1, checksums valid" + (f"; {len(bad)} bad: {bad[:5]}" if bad else ""))
	check(arps and all(a[20:22] == b"\x00\x02" and a[28:32] == NAT and a[6:12] == out_mac
	                   and a[0:6] == gw_mac for a in arps),
	      "the outside ARP replies: 203.0.113.10 is-at the outside port's MAC, to the gateway")

	# --- inside transmissions: the ARP replies only
	txi = frames(f"{tmp}/txin.pcap")
	replies = [f for f in txi if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02"
	           and f[6:12] == in_mac]
	check(len(replies) == clients and len(txi) == clients,
	      f"inside sent {clients} ARP replies and nothing else (sent {len(txi)} frames)")
	sys.exit(1 if fails else 0)
	PY
}

main() {
	local rc=0 i
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	live_require_tool python3
	live_require_built "$EGRESSD" "$EGRESS_GEN"
	live_require_net_pcap

	TMP=$(mktemp -d /tmp/egressd-pcap.XXXXXX)
	LIVE_TMP=$TMP # live_finish shows its logs on failure; removed by cleanup
	write_config
	"$EGRESS_GEN" -o "$TMP/in.pcap" -r "$TMP/out.pcap" -m syn -n $((ALLOWED + DENIED)) \
		--denied "$DENIED" --clients "$CLIENTS" --arp --gw-mac "$GW_MAC" \
		--in-mac "$IN_MAC" --out-mac "$OUT_MAC" 2>"$TMP/gen.err" | tee "$TMP/gen.out" ||
		live_die "egress-gen wrote the captures"

	# Both vdevs replay once (no infinite_rx), so every RX queue goes idle.
	"$EGRESSD" --no-huge -m 512 --no-pci -l 0,1 --file-prefix "$PREFIX" --log-level='egressd.*:info' \
		--vdev "net_pcap0,rx_pcap=$TMP/in.pcap,tx_pcap=$TMP/txin.pcap" \
		--vdev "net_pcap1,rx_pcap=$TMP/out.pcap,tx_pcap=$TMP/txout.pcap" \
		-- -c "$TMP/egressd.yaml" --exit-when-idle 500 \
		>"$TMP/egressd.out" 2>"$TMP/egressd.err" &
	EGRESSD_PID=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$EGRESSD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$EGRESSD_PID" 2>/dev/null; then
		kill -s KILL "$EGRESSD_PID" 2>/dev/null || true
		wait "$EGRESSD_PID" 2>/dev/null || true
		EGRESSD_PID=""
		live_die "egressd exits by itself within 60 s (--exit-when-idle 500)"
	fi
	wait "$EGRESSD_PID" || rc=$?
	EGRESSD_PID=""
	if ((rc == 0)); then
		live_pass "egressd exited by itself with status 0 (--exit-when-idle 500)"
	else
		live_die "egressd exited by itself with status 0 (status $rc)"
	fi
	if grep -q '^egressd: ready' "$TMP/egressd.out"; then
		live_pass "egressd adopted the --vdev ports by name and was ready"
	else
		live_fail "egressd adopted the --vdev ports by name and was ready"
	fi

	local out vrc=0 nfail
	out=$(verify 2>&1) || vrc=$?
	echo "$out"
	nfail=$(grep -c '^FAIL: ' <<<"$out" || true)
	LIVE_CHECKS=$((LIVE_CHECKS + $(grep -c '^\(PASS\|FAIL\): ' <<<"$out" || true)))
	LIVE_FAILS=$((LIVE_FAILS + nfail))
	if ((vrc != 0 && nfail == 0)); then
		live_fail "the checks of the captures ran to the end (python exited $vrc)"
	fi
	live_finish
}

main "$@"
