# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034 # TMP, PREFIX, PID, MEM_OPTS are for the sourcing script
#
# Sourced by the reload benchmarks: a temporary folder, one egressd at a time
# (PID) stopped on exit, and 2 MiB hugepages (1 GiB) on a private hugetlbfs:
# benchmarks run on hugepages, --no-huge halves DPDK's speed here. Sets TMP,
# PREFIX, PID and MEM_OPTS (the EAL memory options to pass).
#
# Usage: source scripts/bench-common.sh NAME

bench_name=$1
TMP=$(mktemp -d "/tmp/egressd-$bench_name.XXXXXX")
PREFIX=eg${bench_name//[^a-z]/}$$
PID=""

bench_cleanup() {
	if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	umount "$TMP/huge" 2>/dev/null || true
	rm -rf "$TMP" "/var/run/dpdk/$PREFIX"
}
trap bench_cleanup EXIT

MEM_OPTS=(--no-huge -m 1024)
mkdir -p "$TMP/huge"
if (($(awk '/HugePages_Free/ {print $2}' /proc/meminfo) < 512)); then
	dpdk-hugepages.py -p 2M --setup 1G >/dev/null 2>&1 || true
fi
if (($(awk '/HugePages_Free/ {print $2}' /proc/meminfo) >= 512)) &&
	mount -t hugetlbfs -o pagesize=2M nodev "$TMP/huge" 2>/dev/null; then
	MEM_OPTS=(-m 1024 --huge-dir "$TMP/huge" --huge-unlink)
else
	echo "$bench_name: no hugepages could be reserved: running with --no-huge" >&2
fi
