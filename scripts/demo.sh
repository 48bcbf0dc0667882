#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The Memorystore scenario, end to end, with no NIC: run as root on Debian 12.
#
#   mesh netns (10.8.0.2, redis-cli) ── veth ── egressd ── veth ── external netns
#                                     net_af_packet      (203.0.113.1; redis-server
#                                                          on 10.59.118.59:6379)
#
# It installs the packages it needs, builds egressd, builds the topology
# (tests/live/lib.sh), starts egressd with config/memorystore's policy (the
# seed's ServiceEntry + Gateway + DestinationRule, REDIS_ENDPOINT filled in)
# and shows, from the mesh: PING -> PONG; the server seeing the NAT address as
# the client; another port timing out; then the telemetry and final counters.
# Everything it started is stopped and removed on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if ((EUID != 0)); then
	echo "demo: run as root (network namespaces, veths, raw sockets)" >&2
	exit 1
fi
bash scripts/install-deps.sh
bash scripts/build.sh build >/dev/null

# shellcheck source=../tests/live/lib.sh
source "$ROOT/tests/live/lib.sh"

say() {
	printf '\n\033[1m%s\033[0m\n' "$*"
}

live_require
live_topology_up
live_start_redis 6379 "$LIVE_REDIS_HOST" >/dev/null

say "1. The policy egressd compiles from the seed's Istio YAML (egressd --check):"
conf=$(live_write_config "$LIVE_TMP/demo" "$ROOT/config/memorystore/policy")
"$EGRESSD" --check -c "$conf"

say "2. egressd starts on the two veths (net_af_packet, --no-huge):"
live_start_egressd "$conf"
sed -n '1p' "$EGRESSD_OUT"

say "3. From the mesh: redis-cli -h 10.59.118.59 -p 6379 PING"
redis_ping "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT" || true

say "4. The server sees the client as the gateway's NAT address (CLIENT LIST):"
mesh_exec timeout 5 redis-cli -h "$LIVE_REDIS_HOST" -p "$LIVE_REDIS_PORT" CLIENT LIST |
	sed -n -E 's/^(.* )?(addr=[^ ]+).* (cmd=[^ ]+).*$/  \2 \3/p'

say "5. Not in the registry: 10.59.118.59:6380 (REGISTRY_ONLY drops the SYN)"
expect_timeout "$LIVE_REDIS_HOST" 6380 || true

say "6. /egress/stats on the telemetry socket (drops: the non-zero reasons):"
live_telemetry /egress/stats | python3 -c '
import json, sys
s = json.load(sys.stdin)["/egress/stats"]
s["drops"] = {k: v for k, v in s["drops"].items() if v}
print(json.dumps(s, indent=2))'

say "7. SIGTERM: the final counters, one JSON line:"
live_stop_egressd
echo "$EGRESSD_FINAL_JSON"
