#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Reload under full traffic: one worker replays established allowed
# flows (net_pcap infinite_rx, both directions, transmissions discarded) while
# the policy is reloaded RELOADS times, alternating two policies that both
# allow those flows. Afterwards it prints packets in and out, drops per
# reason and flows revoked: the claim is zero drops and zero revoked.
#
# Usage: scripts/bench-reload-traffic.sh [RELOADS] [FLOWS]   (default 100, 1000)
# As root; reserves hugepages on a private hugetlbfs like scripts/bench.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RELOADS=${1:-100}
FLOWS=${2:-1000}
bash scripts/build.sh build >/dev/null
EGRESSD=$ROOT/build/app/egressd/egressd
GEN=$ROOT/build/app/gen/egress-gen
# shellcheck source=bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
bench_session bench-rt 1024
TMP=$BENCH_TMP
PREFIX=$BENCH_PREFIX
bench_telemetry_cmd "$PREFIX"

"$GEN" -q -m established -n "$FLOWS" --data 2 --dst 10.59.118.0/24 \
	-o "$TMP/in.pcap" -r "$TMP/out.pcap" --neighbors "$TMP/neighbors.yaml"

# two policies that both allow the flows: B adds an unrelated entry
mkdir -p "$TMP/policy"
se() {
	cat <<-EOF
	apiVersion: networking.istio.io/v1beta1
	kind: ServiceEntry
	metadata: {name: $1}
	spec:
	  hosts: [$1.memorystore.internal]
	  addresses: [$2]
	  ports:
	  - {number: $3, name: tcp-redis, protocol: TCP}
	  location: MESH_EXTERNAL
	  resolution: NONE
	EOF
}
se memorystore 10.59.118.0/24 6379 >"$TMP/a.yaml"
{ se memorystore 10.59.118.0/24 6379; echo ---; se other 10.60.0.0/16 6380; } >"$TMP/b.yaml"
cp "$TMP/a.yaml" "$TMP/policy/entries.yaml"
cat >"$TMP/egressd.yaml" <<-EOF
ports:
  inside:  { device: "net_pcap0", address: 10.8.0.1/16,
             neighbors: $(cat "$TMP/neighbors.yaml") }
  outside: { device: "net_pcap1", address: 203.0.113.10/24, gateway: 203.0.113.1,
             neighbors: { 203.0.113.1: "02:00:cb:00:71:01" } }
nat: { addresses: [203.0.113.10], ports: 1024-65535, port_alloc: preserve }
policy: { outbound: REGISTRY_ONLY, sources: [policy/] }
flows: { max: 65536, tcp_liberal: true }
workers: 1
EOF

"$EGRESSD" "${BENCH_MEM_OPTS[@]}" --no-pci -l 0,1 --file-prefix "$PREFIX" --log-level='egressd.*:warning' \
	--vdev "net_pcap0,rx_pcap=$TMP/in.pcap,infinite_rx=1" \
	--vdev "net_pcap1,rx_pcap=$TMP/out.pcap,infinite_rx=1" \
	-- -c "$TMP/egressd.yaml" --mbufs 65536 >"$TMP/out" 2>"$TMP/err" &
PID=$!
bench_track_pid "$PID"
bench_wait_for "$TMP/out" '^egressd: ready' "$PID" 30 || { cat "$TMP/err"; exit 1; }
sleep 2 # the first loop of the capture: every flow established

"${BENCH_TELEMETRY_CMD[@]}" "$TMP" "$RELOADS" <<'PY'
import os, shutil, sys, time
import egress_telemetry
sock, d, reloads = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = egress_telemetry.connect(sock, 10)
if s is None:
    sys.exit("no telemetry socket: " + sock)

def stats():
    return egress_telemetry.ask(s, "/egress/stats")["/egress/stats"]

before = stats()
t0 = time.monotonic()
for r in range(reloads):
    g = stats()["policy_generation"]
    shutil.copyfile(os.path.join(d, "b.yaml" if r % 2 == 0 else "a.yaml"),
                    os.path.join(d, "policy", ".new"))
    os.rename(os.path.join(d, "policy", ".new"), os.path.join(d, "policy", "entries.yaml"))
    while stats()["policy_generation"] <= g:
        if time.monotonic() - t0 > 600:
            sys.exit("reloads did not complete")
after = stats()
secs = time.monotonic() - t0
rx = sum(after[p]["rx"] - before[p]["rx"] for p in ("inside", "outside"))
tx = sum(after[p]["tx"] - before[p]["tx"] for p in ("inside", "outside"))
drops = {k: v - before["drops"].get(k, 0) for k, v in after["drops"].items()
         if v - before["drops"].get(k, 0)}
print("reloads %d in %.1f s (generation %d -> %d, %d rejected)" % (
    reloads, secs, before["policy_generation"], after["policy_generation"],
    after["reload_failures"] - before["reload_failures"]))
print("packets in %d, out %d (%.2f Mpps in)" % (rx, tx, rx / secs / 1e6))
print("dropped during the reloads: %s" % (drops or "none"))
print("flows revoked during the reloads: %d; rechecked and kept: see flows_active %d" % (
    after["flows_revoked"] - before["flows_revoked"], after["flows_active"]))
PY
bench_stop_dpdk "$PID" TERM 30 "$PREFIX"
