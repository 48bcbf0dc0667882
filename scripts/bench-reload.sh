#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Reload latency: file written -> new policy serving, measured on the real
# daemon. For each size (ServiceEntries in the watched folder) it renames a
# changed file into the folder N times and times each from the rename to the
# moment /egress/stats shows the next policy_generation (so the figure
# includes inotify's debounce, the load, validation, compilation, the RCU
# grace period and the free of the old policy). Prints p50 / p99 / max.
#
# Usage: scripts/bench-reload.sh [RELOADS] [SIZES...]   (default 100; 10 1000 10000)
# As root (DPDK runtime folder); no NIC, no hugepages needed: the ports are
# net_pcap vdevs reading an empty capture.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RELOADS=${1:-100}
shift || true
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(10 1000 10000)

bash scripts/build.sh build >/dev/null
EGRESSD=$ROOT/build/app/egressd/egressd
# shellcheck source=bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
bench_session bench-reload 1024
TMP=$BENCH_TMP
PREFIX=$BENCH_PREFIX
bench_telemetry_cmd "$PREFIX"

# An empty capture: the ports exist and stay idle.
python3 - "$TMP/empty.pcap" <<'PY'
import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
PY

# write_entries FILE N TAG: N ServiceEntries, one /32 each in 10.64.0.0/10.
write_entries() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
path, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path + ".tmp", "w") as f:
    for i in range(n):
        a = 10 << 24 | 64 << 16 | i
        ip = "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
        f.write("---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\n"
                "metadata: {name: se-%s-%d}\nspec:\n  hosts: [svc%d.example.internal]\n"
                "  addresses: [%s]\n  ports:\n  - {number: 6379, name: tcp-redis, protocol: TCP}\n"
                "  location: MESH_EXTERNAL\n  resolution: NONE\n" % (tag, i, i, ip))
PY
}

printf '%-8s %8s %10s %10s %10s %10s %10s\n' entries reloads p50_ms p99_ms max_ms timeouts rejected
for n in "${SIZES[@]}"; do
	dir="$TMP/n$n"
	mkdir -p "$dir/policy"
	write_entries "$dir/policy/entries.yaml" "$n" a
	mv "$dir/policy/entries.yaml.tmp" "$dir/policy/entries.yaml"
	cat >"$dir/egressd.yaml" <<-EOC
	ports:
	  inside:  { device: "net_pcap0", address: 10.8.0.1/16 }
	  outside: { device: "net_pcap1", address: 203.0.113.10/24, gateway: 203.0.113.1 }
	policy: { sources: [policy/] }
	flows: { max: 65536 }
	workers: 1
	EOC
	"$EGRESSD" "${BENCH_MEM_OPTS[@]}" --no-pci -l 0,1 --file-prefix "$PREFIX" --log-level='egressd.*:warning' \
		--vdev "net_pcap0,rx_pcap=$TMP/empty.pcap,tx_pcap=/dev/null" \
		--vdev "net_pcap1,rx_pcap=$TMP/empty.pcap,tx_pcap=/dev/null" \
		-- -c "$dir/egressd.yaml" >"$dir/out" 2>"$dir/err" &
	PID=$!
	bench_track_pid "$PID"
	bench_wait_for "$dir/out" '^egressd: ready' "$PID" 60 || { cat "$dir/err"; exit 1; }
	# both versions written once, outside the timing; the driver keeps one
	# telemetry connection open so that polling costs microseconds
	write_entries "$dir/a.yaml" "$n" a
	write_entries "$dir/b.yaml" "$n" b
	"${BENCH_TELEMETRY_CMD[@]}" "$dir" "$RELOADS" "$n" <<'PY'
import os, shutil, sys, time
import egress_telemetry
sock, d, reloads, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = egress_telemetry.connect(sock, 10)
if s is None:
    sys.exit("no telemetry socket: " + sock)

def stats():
    return egress_telemetry.ask(s, "/egress/stats")["/egress/stats"]

times, failures = [], 0
for r in range(reloads):
    tag = "b" if r % 2 == 0 else "a"
    g = stats()["policy_generation"]
    shutil.copyfile(os.path.join(d, tag + ".yaml.tmp"), os.path.join(d, "policy", ".new"))
    t0 = time.monotonic()
    os.rename(os.path.join(d, "policy", ".new"), os.path.join(d, "policy", "entries.yaml"))
    while time.monotonic() - t0 < 30:
        if stats()["policy_generation"] > g:
            times.append((time.monotonic() - t0) * 1000)
            break
    else:
        failures += 1
times.sort()
pct = lambda p: times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))] if times else float("nan")
st = stats()
print("%-8s %8d %10.1f %10.1f %10.1f %10d %10d" % (n, reloads, pct(50), pct(99), pct(100), failures,
                                                 st["reload_failures"]))
PY
	bench_stop_dpdk "$PID" TERM 30 "$PREFIX"
done
