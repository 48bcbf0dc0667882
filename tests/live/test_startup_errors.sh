#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Start-up errors that say what to do, for the ones this machine can trigger
# (never touching a real PCI device: every run has --no-pci, and the PCI
# address used exists nowhere):
#   - workers: 1 with one lcore (-l 0): exit 1, "workers: 1 needs 2 lcores
#     (one control + 1 workers); EAL has 1: pass e.g. -l 0-1";
#   - a PCI address that is not on this machine: exit 1, the device named,
#     "no such PCI device on this machine";
#   - no --no-huge while no hugepage is free (when none is free here: the
#     check is said to be left out otherwise): exit 1, scripts/setup-hugepages.sh
#     and --no-huge named;
#   - a vdev DPDK refuses: exit 1, told to check the driver and arguments;
#   - mtu: 9000 on net_af_packet (a veth of the test's own, no address), whose
#     PMD takes frames of 1518 bytes at most: exit 1, the device's limits said;
#     and the same port with vlan: 100 at the default mtu 1500 starts (a tag
#     is not counted against the device's frame size, as DPDK does not), with
#     af_packet's VLAN strip and insert on.
#
# Exit: 0 pass, 1 fail, 77 skip (not root: DPDK's runtime folder).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
live_require_root "DPDK's runtime folder under /var/run/dpdk"
live_require_built "$EGRESSD"
live_require_tool ip
LIVE_TMP=$(mktemp -d /tmp/egressd-starterr.XXXXXX)
bench_traps live_cleanup
n=0

# conf INSIDE_DEVICE [KEYS]: a config with that inside device (and ", KEYS"
# in its mapping), net_null outside.
conf() {
	local f="$LIVE_TMP/c$n.yaml"
	cat >"$f" <<-EOF2
	ports:
	  inside:  { device: "$1", address: 10.8.0.1/16${2:+, $2} }
	  outside: { device: "net_null1", address: 203.0.113.10/24, gateway: 203.0.113.1 }
	policy: { sources: [$LIVE_REPO/config/memorystore/policy] }
	workers: 1
	EOF2
	echo "$f"
}

# expect_error WHAT EAL-OPTIONS CONFIG MESSAGE...: egressd exits 1 and its
# stderr holds every MESSAGE (fixed strings).
expect_error() {
	local what=$1 eal=$2 cfg=$3 rc=0 m ok=1
	shift 3
	n=$((n + 1))
	local prefix="egse$$n$n"
	bench_track_prefix "$prefix"
	# shellcheck disable=SC2086 # eal is several EAL words
	timeout 30 "$EGRESSD" $eal --no-pci --file-prefix "$prefix" -- -c "$cfg" \
		>"$LIVE_TMP/$n.out" 2>"$LIVE_TMP/$n.err" || rc=$?
	rm -rf "/var/run/dpdk/$prefix"
	if [[ "$rc" != 1 ]]; then
		echo "  exit status $rc, not 1"
		ok=0
	fi
	for m in "$@"; do
		if ! grep -qF -- "$m" "$LIVE_TMP/$n.err"; then
			echo "  stderr lacks: $m"
			ok=0
		fi
	done
	((ok)) || sed 's/^/  | /' "$LIVE_TMP/$n.err"
	if ((ok)); then live_pass "$what"; else live_fail "$what"; fi
}

expect_error "too few lcores for workers: 1 says how many -l must list" \
	"--no-huge -m 256 -l 0" "$(conf net_null0)" \
	"egressd: workers: 1 needs 2 lcores (one control + 1 workers); EAL has 1: pass e.g. -l 0-1"

expect_error "a PCI address not on this machine is named and said to be absent" \
	"--no-huge -m 256 -l 0,1" "$(conf 0000:ee:1f.7)" \
	"device \"0000:ee:1f.7\" not found or not probed" \
	"egressd: 0000:ee:1f.7: no such PCI device on this machine (lspci -D lists them)"

expect_error "a vdev DPDK refuses: check the driver name and its arguments" \
	"--no-huge -m 256 -l 0,1" "$(conf net_nosuchpmd0,x=1)" \
	"egressd: net_nosuchpmd0: not a device DPDK could create: check the driver name and its arguments"

dev="egse$(($$ % 10000))"
ip link add "$dev" type veth peer name "${dev}p" || live_die "ip link add $dev"
LIVE_LINKS+=("$dev")
ip link set "$dev" up
expect_error "mtu 9000 beyond net_af_packet's frames: the device's limits said" \
	"--no-huge -m 256 -l 0,1" "$(conf "net_af_packet0,iface=$dev" "mtu: 9000")" \
	"egressd: net_af_packet0,iface=$dev: mtu 9000: the device takes an MTU of 46-65535 and frames of at most 1518 bytes (this one: 9018); lower ports.*.mtu"

cfg=$(conf "net_af_packet0,iface=$dev" "vlan: 100")
prefix="egse$$ok"
bench_track_prefix "$prefix"
"$EGRESSD" --no-huge -m 256 -l 0,1 --no-pci --file-prefix "$prefix" -- -c "$cfg" \
	>"$LIVE_TMP/ok.out" 2>"$LIVE_TMP/ok.err" &
pid=$!
live_track_pid "$pid"
live_check "vlan: 100 on net_af_packet at mtu 1500 starts" \
	bench_wait_for "$LIVE_TMP/ok.out" '^egressd: ready' "$pid" 20
live_check "with the PMD's VLAN strip and insert" \
	grep -qF "egressd: net_af_packet0,iface=$dev: offloads: rx checksum off, tx ipv4 checksum off, tx tcp/udp checksum off, fast-free off, vlan strip on, vlan insert on" "$LIVE_TMP/ok.err"
stopped() { live_stop_pid "$pid" TERM 15 && [[ "$LIVE_STOP_RC" == 0 ]]; }
live_check "and stops on SIGTERM with status 0" stopped

free=$(cat /sys/kernel/mm/hugepages/hugepages-*/free_hugepages 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
if [[ "${free:-0}" == 0 ]]; then
	expect_error "no free hugepages: points to scripts/setup-hugepages.sh and --no-huge" \
		"-l 0,1" "$(conf net_null0)" \
		"egressd: cannot start DPDK" \
		"egressd: no free hugepages: reserve them with scripts/setup-hugepages.sh" \
		"--no-huge -m 512"
else
	echo "# $free hugepages free here: the no-hugepage message is not triggerable, left out"
fi
live_finish
