#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Make PAGES hugepages of SIZE free for egressd (on NUMA node NODE, or on
# every node), then mount hugetlbfs for that size. Wraps dpdk-hugepages.py.
#
# Relative, never destructive: only the pages missing are added (the pool
# grows from its current size, pages other processes hold stay theirs), and
# --release gives back exactly PAGES pages, free ones only. A boot-time
# reservation (hugepages= on the kernel command line, doc/deploy-bare-metal.md)
# is the reliable way for 1 GiB pages; this script is for 2 MiB pages at run
# time, or 1 GiB pages while memory is not yet fragmented.
#
# Usage: scripts/setup-hugepages.sh [--size 2M|1G] [--node N] [--mount DIR]
#                                   [--dry-run] PAGES
#        scripts/setup-hugepages.sh [--size 2M|1G] [--node N] [--dry-run]
#                                   --release PAGES
#   --size     page size, 2M (default) or 1G
#   --node     NUMA node to reserve on (the NIC's: /sys/bus/pci/devices/ADDR/
#              numa_node); default every node, PAGES on each
#   --mount    hugetlbfs mount point for SIZE (default /dev/hugepages, the
#              one systemd mounts; 1G pages get their own, /dev/hugepages1G)
#   --release  give back PAGES pages (of the free ones) instead
#   --dry-run  print what would be done and the commands, do nothing
# Commands on stdout ("+ CMD"), what and why on stderr.
# Exit: 0 done (or would be), 1 a check failed, 2 usage.
set -euo pipefail

# Tests point these at a copy of the tree they change.
SYSFS=${HUGEPAGES_SYSFS:-/sys}
MEMINFO=${HUGEPAGES_MEMINFO:-/proc/meminfo}

SIZE=2M
NODE=
MOUNT=
RELEASE=0
DRY_RUN=0
PAGES=

die() {
	echo "setup-hugepages: $*" >&2
	exit 1
}

usage() {
	sed -n '/^# Usage:/,/^# Exit:/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# run CMD...: print it; run it unless --dry-run.
run() {
	echo "+ $*"
	((DRY_RUN)) || "$@"
}

parse_args() {
	while (($# > 0)); do
		case "$1" in
		--size) SIZE=${2:?--size needs 2M or 1G}; shift ;;
		--node) NODE=${2:?--node needs a number}; shift ;;
		--mount) MOUNT=${2:?--mount needs a folder}; shift ;;
		--release) RELEASE=1 ;;
		--dry-run) DRY_RUN=1 ;;
		-h | --help) usage ;;
		-*) echo "setup-hugepages: unknown option $1" >&2; usage ;;
		*)
			[[ -z "$PAGES" ]] || usage
			PAGES=$1
			;;
		esac
		shift
	done
	[[ "$PAGES" =~ ^[1-9][0-9]*$ ]] || die "PAGES must be a positive number of pages, got '${PAGES}'"
	case "$SIZE" in
	2M | 2m | 2048k | 2048K) SIZE=2M KB=2048 ;;
	1G | 1g | 1024M | 1048576k | 1048576K) SIZE=1G KB=1048576 ;;
	*) die "--size: $SIZE is not a hugepage size egressd uses (2M or 1G)" ;;
	esac
	if [[ -z "$MOUNT" ]]; then
		MOUNT=/dev/hugepages
		[[ $SIZE == 1G ]] && MOUNT=/dev/hugepages1G
	fi
	[[ -z "$NODE" || "$NODE" =~ ^[0-9]+$ ]] || die "--node: '$NODE' is not a node number"
}

# The hugepages folder of node $1 ("" = the system-wide one) for SIZE.
pool_dir() {
	if [[ -n "$1" ]]; then
		echo "$SYSFS/devices/system/node/node$1/hugepages/hugepages-${KB}kB"
	else
		echo "$SYSFS/kernel/mm/hugepages/hugepages-${KB}kB"
	fi
}

check_size_and_nodes() {
	local d
	[[ -d "$(pool_dir "")" ]] ||
		die "this kernel or CPU has no $SIZE hugepages ($(pool_dir "") missing; 1G needs the pdpe1gb CPU flag)"
	if [[ -n "$NODE" ]]; then
		[[ -d "$SYSFS/devices/system/node/node$NODE" ]] ||
			die "no NUMA node $NODE (this machine has: $(cd "$SYSFS/devices/system/node" 2>/dev/null && echo node[0-9]*))"
	fi
	for d in $(nodes); do
		[[ -z "$d" || -d "$(pool_dir "$d")" ]] || die "node $d has no $SIZE pool ($(pool_dir "$d"))"
	done
}

# The nodes to act on, one a line: NODE, else every node, else "" (no NUMA).
nodes() {
	local n
	if [[ -n "$NODE" ]]; then
		echo "$NODE"
		return
	fi
	if [[ ! -d "$SYSFS/devices/system/node" ]]; then
		echo ""
		return
	fi
	for n in "$SYSFS"/devices/system/node/node[0-9]*; do
		[[ -d "$n" ]] && echo "${n##*/node}"
	done
}

# dpdk-hugepages.py sets a node's pool to an absolute size: reserve NODE TOTAL.
reserve() {
	local node=$1 total=$2
	local args=(-p "$SIZE" -r "$((total * KB))K")
	[[ -n "$node" ]] && args+=(-n "$node")
	run dpdk-hugepages.py "${args[@]}"
}

main() {
	parse_args "$@"
	check_size_and_nodes
	((DRY_RUN)) || ((EUID == 0)) || die "needs root (or --dry-run to see what it would do)"
	((DRY_RUN)) || command -v dpdk-hugepages.py >/dev/null ||
		die "dpdk-hugepages.py not found: install the dpdk package"
	local node dir nr free want total need_kb avail_kb where rc=0 node_list
	mapfile -t node_list < <(nodes)
	avail_kb=$(awk '/^MemAvailable:/ { print $2 }' "$MEMINFO")
	for node in "${node_list[@]}"; do
		dir=$(pool_dir "$node")
		nr=$(<"$dir/nr_hugepages")
		free=$(<"$dir/free_hugepages")
		where="node ${node:-(no NUMA)}"
		if ((RELEASE)); then
			((free >= PAGES)) ||
				die "$where: only $free of $nr $SIZE pages are free, cannot give back $PAGES"
			echo "setup-hugepages: $where: giving back $PAGES of $nr $SIZE pages (pool $nr -> $((nr - PAGES)))" >&2
			reserve "$node" $((nr - PAGES))
			continue
		fi
		if ((free >= PAGES)); then
			echo "setup-hugepages: $where: $free of $nr $SIZE pages free, $PAGES wanted: nothing to add" >&2
			continue
		fi
		want=$((PAGES - free))
		total=$((nr + want))
		need_kb=$((want * KB))
		((need_kb <= avail_kb)) ||
			die "$where: $want more $SIZE pages need $((need_kb / 1024)) MiB, only $((avail_kb / 1024)) MiB available"
		echo "setup-hugepages: $where: $free of $nr $SIZE pages free, adding $want (pool $nr -> $total)" >&2
		# dpdk-hugepages.py fails when the kernel grants fewer: say why below
		reserve "$node" "$total" || true
		if ((!DRY_RUN)) && (($(<"$dir/nr_hugepages") < total)); then
			echo "setup-hugepages: $where: the kernel gave $(<"$dir/nr_hugepages") of $total pages: memory too fragmented, reserve them at boot (hugepages= on the kernel command line)" >&2
			rc=1
		fi
		avail_kb=$((avail_kb - need_kb))
	done
	((RELEASE)) && return "$rc"
	if grep -qs "^[^ ]* $MOUNT hugetlbfs " /proc/mounts; then
		echo "setup-hugepages: hugetlbfs already mounted on $MOUNT" >&2
	else
		run mkdir -p "$MOUNT"
		run dpdk-hugepages.py -p "$SIZE" --mount --directory "$MOUNT"
	fi
	return "$rc"
}

main "$@"
