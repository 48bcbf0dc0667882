#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Bind NIC ports (PCI addresses) to vfio-pci for egressd, with
# dpdk-devbind.py (default) or driverctl (--driverctl: the binding survives
# a reboot). Checks first, and binds nothing unless every check passes:
#   - root;
#   - the device exists and is a network controller;
#   - it is not in use by the host: none of its interfaces carries the
#     default route, an address or is up (refused, naming the interface,
#     unless --force: binding it cuts whatever used it, an SSH session too);
#   - an IOMMU is on (/sys/kernel/iommu_groups not empty), or --noiommu asks
#     for vfio's unsafe no-IOMMU mode (a VM without a virtual IOMMU);
#   - every other device of the device's IOMMU group is on vfio-pci, has no
#     driver, is a PCI bridge, or is bound in the same run (vfio gives a
#     process whole groups only);
#   - the vfio-pci module is loaded, built in, or loadable.
# Never needed for mlx5 (bifurcated: DPDK drives it beside its kernel
# driver) nor for AF_XDP, net_tap or vdevs; see doc/deploy-bare-metal.md.
#
# Usage: scripts/bind-nic.sh [--driverctl] [--noiommu] [--force] [--dry-run]
#                            PCI_ADDRESS...
#   --driverctl  bind with driverctl set-override (persistent) instead of
#                dpdk-devbind.py
#   --noiommu    no IOMMU: use vfio's no-IOMMU mode (no DMA isolation: the
#                device can write anywhere in memory; taints the kernel)
#   --force      bind even an interface that is up, addressed or routed
#   --dry-run    run the checks, print the commands, run none; the exit
#                status says whether the real run would go ahead
# Exit: 0 bound (or would bind), 1 a check failed, 2 usage.
set -euo pipefail

# Tests point this at a tree of their own (the IOMMU group checks).
SYSFS=${BIND_NIC_SYSFS:-/sys}
DRIVER=vfio-pci
TOOL=devbind
NOIOMMU=0
FORCE=0
DRY_RUN=0
ADDRS=()
PROBLEMS=0
PLAN=()

die() {
	echo "bind-nic: $*" >&2
	exit 1
}

# A check that a dry run reports and goes on from; a real run stops before
# binding anything.
problem() {
	echo "bind-nic: $*" >&2
	PROBLEMS=$((PROBLEMS + 1))
}

usage() {
	sed -n '/^# Usage:/,/^# Exit:/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

plan() {
	PLAN+=("$*")
}

parse_args() {
	local a
	while (($# > 0)); do
		case "$1" in
		--driverctl) TOOL=driverctl ;;
		--noiommu) NOIOMMU=1 ;;
		--force) FORCE=1 ;;
		--dry-run) DRY_RUN=1 ;;
		-h | --help) usage ;;
		-*) echo "bind-nic: unknown option $1" >&2; usage ;;
		*)
			a=$1
			# lspci prints 3b:00.0: the domain is 0000 then
			[[ "$a" =~ ^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] && a=0000:$a
			[[ "$a" =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] ||
				die "'$1' is not a PCI address (DDDD:BB:DD.F, as lspci -D prints it)"
			ADDRS+=("${a,,}")
			;;
		esac
		shift
	done
	((${#ADDRS[@]} > 0)) || usage
}

# The network interfaces whose device is PCI device $1 (virtio-net hangs
# them one level down, under its virtioN child), one a line.
interfaces_of() {
	local dev n real
	dev=$(readlink -f "$SYSFS/bus/pci/devices/$1")
	for n in "$SYSFS"/class/net/*; do
		[[ -e "$n/device" ]] || continue
		real=$(readlink -f "$n/device")
		[[ "$real" == "$dev" || "$real" == "$dev"/* ]] && echo "${n##*/}"
	done
	return 0
}

# Why interface $1 is in use by the host, or nothing.
in_use() {
	local ifc=$1 why=()
	if ip route show default 2>/dev/null | grep -qw "dev $ifc" ||
		ip -6 route show default 2>/dev/null | grep -qw "dev $ifc"; then
		why+=("carries the default route")
	fi
	local addrs
	addrs=$(ip -o addr show dev "$ifc" scope global 2>/dev/null | awk '{ print $4 }' | paste -sd ' ' -)
	[[ -n "$addrs" ]] && why+=("has the address(es) $addrs")
	ip -o link show dev "$ifc" 2>/dev/null | grep -q '[<,]UP[,>]' && why+=("is up")
	local IFS=';'
	local joined="${why[*]}"
	echo "${joined//;/, }"
}

check_device() {
	local addr=$1 d="$SYSFS/bus/pci/devices/$1" class drv ifc why ifcs=()
	[[ -e "$d" ]] || die "$addr: no such PCI device (lspci -D lists them; dpdk-devbind.py --status shows the NICs)"
	class=$(<"$d/class")
	if [[ "$class" != 0x02* ]]; then
		((FORCE)) || die "$addr: class $class is not a network controller (0x02xxxx); --force to bind it anyway"
	fi
	drv=
	[[ -e "$d/driver" ]] && drv=$(basename "$(readlink -f "$d/driver")")
	if [[ "$drv" == "$DRIVER" ]]; then
		echo "bind-nic: $addr: already bound to $DRIVER" >&2
		return 1
	fi
	mapfile -t ifcs < <(interfaces_of "$addr")
	for ifc in "${ifcs[@]}"; do
		why=$(in_use "$ifc")
		[[ -n "$why" ]] || continue
		if ((FORCE)); then
			echo "bind-nic: $addr: interface $ifc $why: binding it anyway (--force)" >&2
		else
			die "$addr: interface $ifc $why: the host uses it; bind another port, or take it down first (ip addr flush dev $ifc; ip link set $ifc down), or --force"
		fi
	done
	echo "bind-nic: $addr: ${drv:-no driver}${ifcs[*]:+ (interface ${ifcs[*]})} -> $DRIVER" >&2
	return 0
}

check_iommu() {
	local groups=("$SYSFS"/kernel/iommu_groups/*)
	if [[ -e "${groups[0]}" ]]; then
		return 0
	fi
	if ((NOIOMMU)); then
		echo "bind-nic: no IOMMU: using vfio's unsafe no-IOMMU mode (--noiommu): no DMA isolation" >&2
		# a module parameter when vfio is loaded here, else set on the loaded one
		if [[ ! -d "$SYSFS/module/vfio" ]]; then
			plan "modprobe vfio enable_unsafe_noiommu_mode=1"
		elif [[ "$(cat "$SYSFS/module/vfio/parameters/enable_unsafe_noiommu_mode" 2>/dev/null)" != Y ]]; then
			plan "sh -c 'echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode'"
		fi
		return 0
	fi
	problem "no IOMMU ($SYSFS/kernel/iommu_groups is empty): enable VT-d (Intel) or AMD-Vi/IOMMU in the BIOS and boot with intel_iommu=on iommu=pt (AMD: amd_iommu=on iommu=pt) on the kernel command line (doc/deploy-bare-metal.md); in a VM without a virtual IOMMU, --noiommu uses vfio's unsafe no-IOMMU mode"
}

# Every device that shares an IOMMU group with one of the addresses $@ must
# be vfio's too (or driverless, or a bridge), or vfio cannot open the group.
check_groups() {
	local addr dev other drv group
	for addr in "$@"; do
		[[ -e "$SYSFS/bus/pci/devices/$addr/iommu_group" ]] || continue
		group=$(basename "$(readlink -f "$SYSFS/bus/pci/devices/$addr/iommu_group")")
		for dev in "$SYSFS/bus/pci/devices/$addr/iommu_group/devices"/*; do
			other=${dev##*/}
			[[ " $* " == *" $other "* ]] && continue
			[[ "$(cat "$dev/class" 2>/dev/null)" == 0x0604* ]] && continue
			drv=
			[[ -e "$dev/driver" ]] && drv=$(basename "$(readlink -f "$dev/driver")")
			[[ -z "$drv" || "$drv" == "$DRIVER" || "$drv" == pci-stub ]] && continue
			problem "$addr: its IOMMU group $group also holds $other (driver $drv): vfio gives a process whole groups only; bind $other too (name it here) or unbind it, or use a slot whose device has a group of its own (ACS)"
		done
	done
}

check_vfio_module() {
	local kver
	kver=$(uname -r)
	if [[ -d "$SYSFS/module/vfio_pci" ]]; then
		return 0
	fi
	plan "modprobe vfio-pci"
	if ! command -v modprobe >/dev/null 2>&1; then
		problem "vfio-pci is not loaded and modprobe is missing (install kmod)"
	elif ! modprobe -n vfio-pci >/dev/null 2>&1; then
		problem "vfio-pci cannot be loaded: no module for kernel $kver (install its linux-image package; a kernel without CONFIG_VFIO_PCI cannot run egressd on PCI devices: use AF_XDP)"
	fi
}

check_tool() {
	local t=dpdk-devbind.py
	[[ $TOOL == driverctl ]] && t=driverctl
	command -v "$t" >/dev/null 2>&1 ||
		problem "$t not found (install the ${t/dpdk-devbind.py/dpdk} package)"
}

main() {
	parse_args "$@"
	((DRY_RUN)) || ((EUID == 0)) || die "needs root (or --dry-run to see what it would do)"
	local addr todo=()
	for addr in "${ADDRS[@]}"; do
		check_device "$addr" && todo+=("$addr")
	done
	((${#todo[@]} > 0)) || return 0
	check_iommu
	check_groups "${todo[@]}"
	check_vfio_module
	check_tool
	if [[ $TOOL == devbind ]]; then
		# dpdk-devbind.py makes its own routing-table check: --force passes ours on
		local force_arg=
		((FORCE)) && force_arg=" --force"
		plan "dpdk-devbind.py --bind=$DRIVER$force_arg ${todo[*]}"
	else
		for addr in "${todo[@]}"; do
			plan "driverctl set-override $addr $DRIVER"
		done
	fi
	if ((PROBLEMS > 0 && !DRY_RUN)); then
		die "$PROBLEMS problem(s) above: nothing bound"
	fi
	local cmd
	for cmd in "${PLAN[@]}"; do
		echo "+ $cmd"
		((DRY_RUN)) || sh -c "$cmd"
	done
	if ((DRY_RUN)); then
		((PROBLEMS == 0)) || die "dry run: $PROBLEMS problem(s) above: a real run would bind nothing"
		echo "bind-nic: dry run: nothing done" >&2
	fi
}

main "$@"
