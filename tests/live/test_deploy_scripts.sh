#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# scripts/bind-nic.sh and scripts/setup-hugepages.sh on this machine.
#
# bind-nic.sh runs ONLY with --dry-run or on error paths: no PCI device is
# ever bound, unbound or reset here (the test checks the driver of the NIC it
# names is the same at the end). On the PCI NIC that carries the default route:
#   - --dry-run refuses, naming the interface and the default route, and
#     prints no command;
#   - --force --dry-run prints exactly the commands a real run would run
#     (modprobe when vfio-pci is not loaded, dpdk-devbind.py --bind=vfio-pci
#     --force ADDR), the same for lspci's short form of the address; without
#     an IOMMU it exits 1 saying how to enable one (intel_iommu=on iommu=pt),
#     and --noiommu adds the no-IOMMU module parameter first;
#   - a non-existent address, a malformed one, a device that is not a NIC,
#     and a real run as an unprivileged user: exit 1, a message, no command;
#   - on a made-up sysfs tree (BIND_NIC_SYSFS) with IOMMU group 7 holding two
#     NIC ports and a bridge: one port alone is refused, naming the other
#     port and its driver; both together: exit 0, exactly one command.
# setup-hugepages.sh:
#   - --dry-run prints the exact dpdk-hugepages.py reservation (pool + the
#     missing pages) and the pool is unchanged;
#   - an unsupported size, a missing node, more pages than memory: exit 1;
#   - for real (root): 2 pages more than are free on node 0 added, hugetlbfs
#     mounted on a folder of the test's, then exactly those 2 given back
#     (--release): the pool ends as it began (other processes' pages untouched).
#
# Exit: 0 pass, 1 fail, 77 skip (no PCI NIC with the default route for the
# bind checks; not root for the real reservation).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BIND=$LIVE_REPO/scripts/bind-nic.sh
HUGE=$LIVE_REPO/scripts/setup-hugepages.sh

TMP=$(mktemp -d /tmp/egressd-deploy.XXXXXX)
HUGE_ADDED=0
HUGE_NODE=0
cleanup_deploy() {
	if grep -qs " $TMP/huge hugetlbfs " /proc/mounts; then
		umount "$TMP/huge" || true
	fi
	if ((HUGE_ADDED > 0)); then
		bash "$HUGE" --node "$HUGE_NODE" --release "$HUGE_ADDED" >/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup_deploy EXIT

# run NAME ARGS...: run a script, stdout to $TMP/NAME.out, stderr to .err; RC
run() {
	local name=$1
	shift
	RC=0
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
}

# expect NAME RC TEXT OUT: exit status RC, TEXT (fixed string) on stderr, and
# stdout exactly OUT.
expect() {
	local name=$1 rc=$2 text=$3 out=$4 what=$5
	if [[ $RC == "$rc" ]] && grep -qF -- "$text" "$TMP/$name.err" &&
		[[ "$(cat "$TMP/$name.out")" == "$out" ]]; then
		live_pass "$what"
	else
		live_fail "$what: exit $RC (want $rc)"
		sed 's/^/  | err: /' "$TMP/$name.err" | head -5
		sed 's/^/  | out: /' "$TMP/$name.out" | head -5
		echo "  | want out: $out"
	fi
}

# The PCI address of the NIC that carries the default route: the last PCI
# address in its sysfs device path (virtio-net sits one level below).
default_route_nic() {
	local ifc dev
	ifc=$(ip route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
	[[ -n "$ifc" && -e /sys/class/net/$ifc/device ]] || return 0
	dev=$(readlink -f "/sys/class/net/$ifc/device")
	echo "$ifc $(grep -oE '[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]' <<<"$dev" | tail -n 1)"
}

driver_of() {
	basename "$(readlink -f "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null || true
}

bind_checks() {
	local ifc addr short driver_before iommu=1 cmds
	read -r ifc addr < <(default_route_nic) || true
	if [[ -z "${addr:-}" ]]; then
		echo "  no PCI NIC carries the default route: bind-nic.sh's refusal not checked"
		return 0
	fi
	driver_before=$(driver_of "$addr")
	compgen -G "/sys/kernel/iommu_groups/*" >/dev/null || iommu=0

	run refuse bash "$BIND" --dry-run "$addr"
	expect refuse 1 "$addr: interface $ifc carries the default route" "" \
		"bind-nic --dry-run $addr ($ifc): refused, default route named, no command"

	cmds=
	[[ -d /sys/module/vfio_pci ]] || cmds="+ modprobe vfio-pci"$'\n'
	cmds+="+ dpdk-devbind.py --bind=vfio-pci --force $addr"
	run force bash "$BIND" --force --dry-run "$addr"
	if ((iommu)); then
		expect force "$RC" "$addr: $driver_before (interface $ifc) -> vfio-pci" "$cmds" \
			"bind-nic --force --dry-run: the exact commands"
	else
		expect force 1 "boot with intel_iommu=on iommu=pt" "$cmds" \
			"bind-nic --force --dry-run: the exact commands, exit 1: no IOMMU, how to enable it"
		local noiommu_cmds=$cmds
		[[ -d /sys/module/vfio ]] ||
			noiommu_cmds="+ modprobe vfio enable_unsafe_noiommu_mode=1"$'\n'"$cmds"
		run noiommu bash "$BIND" --force --noiommu --dry-run "$addr"
		expect noiommu "$RC" "unsafe no-IOMMU mode (--noiommu)" "$noiommu_cmds" \
			"bind-nic --noiommu --force --dry-run: the no-IOMMU parameter first"
	fi

	short=${addr#0000:}
	run short bash "$BIND" --force --dry-run "$short"
	expect short "$RC" "$addr:" "$cmds" "bind-nic: lspci's $short is $addr"

	local ghost=0000:fe:1f.7
	[[ -e /sys/bus/pci/devices/$ghost ]] && ghost=0000:fd:1f.7
	run ghost bash "$BIND" --dry-run "$ghost"
	expect ghost 1 "$ghost: no such PCI device" "" "bind-nic: a non-existent address: exit 1, named"

	run malformed bash "$BIND" --dry-run "$ifc"
	expect malformed 1 "'$ifc' is not a PCI address" "" "bind-nic: an interface name instead of an address: exit 1"

	local d other=
	for d in /sys/bus/pci/devices/*; do
		[[ "$(<"$d/class")" == 0x02* ]] || { other=${d##*/}; break; }
	done
	if [[ -n "$other" ]]; then
		run other bash "$BIND" --dry-run "$other"
		expect other 1 "$other: class $(<"/sys/bus/pci/devices/$other/class") is not a network controller" "" \
			"bind-nic: $other, not a NIC: refused"
	fi

	if ((EUID == 0)) && live_have_tool runuser; then
		# a copy nobody can read: the checkout may sit in a folder only
		# root enters (a CI clone in a mktemp -d, mode 0700)
		local pub
		pub=$(mktemp -d /tmp/egressd-bind-nic.XXXXXX)
		chmod 755 "$pub"
		install -m 755 "$BIND" "$pub/bind-nic.sh"
		run nobody runuser -u nobody -- bash "$pub/bind-nic.sh" "$addr"
		rm -rf "$pub"
		expect nobody 1 "needs root" "" "bind-nic without root: exit 1 before any check or command"
	fi

	if [[ "$(driver_of "$addr")" == "$driver_before" ]]; then
		live_pass "$addr still on $driver_before: nothing was bound"
	else
		live_fail "$addr: driver $driver_before became $(driver_of "$addr")"
	fi
}

# A sysfs tree with IOMMU group 7: ports 0000:aa:00.0 and .1 on ixgbe, and
# the bridge 0000:aa:00.2; vfio-pci loaded.
fake_sysfs() {
	local f=$TMP/sysfs d
	mkdir -p "$f/kernel/iommu_groups/7/devices" "$f/bus/pci/drivers/ixgbe" \
		"$f/module/vfio_pci" "$f/class/net"
	for d in 0000:aa:00.0 0000:aa:00.1 0000:aa:00.2; do
		mkdir -p "$f/bus/pci/devices/$d"
		echo 0x020000 >"$f/bus/pci/devices/$d/class"
		ln -s "$f/kernel/iommu_groups/7" "$f/bus/pci/devices/$d/iommu_group"
		ln -s "$f/bus/pci/devices/$d" "$f/kernel/iommu_groups/7/devices/$d"
	done
	echo 0x060400 >"$f/bus/pci/devices/0000:aa:00.2/class"
	ln -s "$f/bus/pci/drivers/ixgbe" "$f/bus/pci/devices/0000:aa:00.0/driver"
	ln -s "$f/bus/pci/drivers/ixgbe" "$f/bus/pci/devices/0000:aa:00.1/driver"
	echo "$f"
}

group_checks() {
	local f
	f=$(fake_sysfs)
	run group1 env BIND_NIC_SYSFS="$f" bash "$BIND" --dry-run 0000:aa:00.0
	expect group1 1 "0000:aa:00.0: its IOMMU group 7 also holds 0000:aa:00.1 (driver ixgbe)" \
		"+ dpdk-devbind.py --bind=vfio-pci 0000:aa:00.0" \
		"bind-nic: one port of a shared IOMMU group: exit 1, the other port named"
	if grep -q "0000:aa:00.2" "$TMP/group1.err"; then
		live_fail "bind-nic: the group's PCI bridge was reported"
	fi
	run group2 env BIND_NIC_SYSFS="$f" bash "$BIND" --dry-run 0000:aa:00.0 0000:aa:00.1
	expect group2 0 "dry run: nothing done" \
		"+ dpdk-devbind.py --bind=vfio-pci 0000:aa:00.0 0000:aa:00.1" \
		"bind-nic: the whole group (bridge aside): exit 0, exactly one command"
}

hugepage_checks() {
	local pool=/sys/devices/system/node/node0/hugepages/hugepages-2048kB nr free want
	if [[ ! -d $pool ]]; then
		echo "  no NUMA node 0 with 2 MiB pages: setup-hugepages.sh not checked"
		return 0
	fi
	nr=$(<"$pool/nr_hugepages")
	free=$(<"$pool/free_hugepages")
	want=$((free + 3))
	run hdry bash "$HUGE" --dry-run --node 0 --mount "$TMP/huge" "$want"
	expect hdry 0 "node 0: $free of $nr 2M pages free, adding 3 (pool $nr -> $((nr + 3)))" \
		"+ dpdk-hugepages.py -p 2M -r $(((nr + 3) * 2048))K -n 0
+ mkdir -p $TMP/huge
+ dpdk-hugepages.py -p 2M --mount --directory $TMP/huge" \
		"setup-hugepages --dry-run: the exact reservation (pool + 3 missing pages) and mount"
	if [[ "$(<"$pool/nr_hugepages")" == "$nr" ]] && [[ ! -e "$TMP/huge" ]]; then
		live_pass "setup-hugepages --dry-run: pool and mounts unchanged"
	else
		live_fail "setup-hugepages --dry-run changed something: pool $(<"$pool/nr_hugepages") (was $nr)"
	fi

	run hsize bash "$HUGE" --dry-run --size 4M 2
	expect hsize 1 "--size: 4M is not a hugepage size" "" "setup-hugepages --size 4M: exit 1"
	run hnode bash "$HUGE" --dry-run --node 99 2
	expect hnode 1 "no NUMA node 99" "" "setup-hugepages --node 99: exit 1"
	run hmem bash "$HUGE" --dry-run --size 1G --node 0 1000000
	expect hmem 1 "MiB, only" "" "setup-hugepages: more pages than memory: exit 1"

	if ((EUID != 0)); then
		echo "  not root: the real reservation not checked"
		return 0
	fi
	nr=$(<"$pool/nr_hugepages")
	free=$(<"$pool/free_hugepages")
	run hreal bash "$HUGE" --node 0 --mount "$TMP/huge" $((free + 2))
	[[ $RC == 0 ]] && HUGE_ADDED=2
	if [[ $RC == 0 && "$(<"$pool/nr_hugepages")" == $((nr + 2)) ]] &&
		grep -qs " $TMP/huge hugetlbfs " /proc/mounts; then
		live_pass "setup-hugepages: 2 pages added (pool $nr -> $((nr + 2))), hugetlbfs mounted"
	else
		live_fail "setup-hugepages: exit $RC, pool $(<"$pool/nr_hugepages") (was $nr)"
		sed 's/^/  | /' "$TMP/hreal.err" "$TMP/hreal.out" | head -5
	fi
	umount "$TMP/huge" 2>/dev/null || true
	run hrel bash "$HUGE" --node 0 --release 2
	[[ $RC == 0 ]] && HUGE_ADDED=0
	if [[ $RC == 0 && "$(<"$pool/nr_hugepages")" == "$nr" ]]; then
		live_pass "setup-hugepages --release 2: the pool back to $nr"
	else
		live_fail "setup-hugepages --release: exit $RC, pool $(<"$pool/nr_hugepages") (was $nr)"
	fi
}

bind_checks
group_checks
hugepage_checks
live_finish
