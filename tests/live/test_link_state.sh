#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live: a cable pull on the inside port, in the Memorystore topology, with
# the inside port on net_tap (which has link state and LSC interrupts;
# net_af_packet reports its link up whatever the veth does): egressd's tap
# egt<sfx> is joined to the inside veth by tc mirred both ways, and the pull
# is `ip link set egt<sfx> down`. With a redis connection held open through
# egressd:
#   - before: egressd_port_link_up{port="inside"} 1, /egress/stats
#     ports.inside.link_up 1;
#   - `ip link set egt<sfx> down`: the log says "inside link down", the metric and
#     /egress/stats say 0, the outside stays 1;
#   - `ip link set egt<sfx> up`: "inside link up, N Mbps ...", the metric 1;
#   - the same egressd process (no restart), the same flows_active as before
#     the pull, flows_created and the inside rx counter not reset, and a new
#     PING answers PONG.
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no netns support, curl or tc missing).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

live_require curl tc
live_topology_up
tap=egt$LIVE_SFX

port=$((30000 + LIVE_SFX))
url="http://127.0.0.1:$port/metrics"
conf=$(live_write_config "$LIVE_TMP/link" "$LIVE_REPO/config/memorystore/policy")
printf 'metrics: { listen: "127.0.0.1:%s" }\n' "$port" >>"$conf"
sed -i -e "s/device: \"net_af_packet0,iface=$LIVE_IN_DEV\"/device: \"net_tap0,iface=$tap\"/" "$conf"
grep -q "net_tap0,iface=$tap" "$conf" || live_die "config not rewritten for net_tap"
live_start_egressd "$conf" || live_die "egressd ready"
pid=$EGRESSD_PID
live_check "the LSC callback is registered on the tap (no \"no link state events\" warning)" \
	bash -c '! grep -q "no link state events" "$1"' _ "$EGRESSD_ERR"

# the tap (root namespace, no address) and the inside veth, frame for frame
live_ipv6_off "$tap"
ip link set dev "$tap" up
tc qdisc add dev "$tap" ingress
tc filter add dev "$tap" parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev "$LIVE_IN_DEV"
tc qdisc add dev "$LIVE_IN_DEV" ingress
tc filter add dev "$LIVE_IN_DEV" parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev "$tap"
live_check "PING through egressd's tap answers PONG" redis_ping "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT"

# metric PORT: the scrape's egressd_port_link_up value for PORT.
metric() {
	curl -s --max-time 2 "$url" | sed -n -E "s/^egressd_port_link_up\\{port=\"$1\"\\} ([0-9]+)$/\\1/p"
}

# stat KEY: a number of /egress/stats (telemetry joins "ports"/"inside"/KEY
# as "inside/KEY"; the top-level port objects hold KEY under the port).
stat() {
	live_telemetry /egress/stats | python3 -c '
import json, sys
o = json.load(sys.stdin)["/egress/stats"]
k = sys.argv[1]
if "/" in k:
    port, name = k.split("/")
    v = o.get(port, {}).get(name) if isinstance(o.get(port), dict) else None
    if v is None:
        v = o.get("ports", {}).get(k)
else:
    v = o.get(k)
print(v)' "$1"
}

# wait_for CMD WANT SECONDS: CMD prints WANT within SECONDS.
wait_for() {
	local cmd=$1 want=$2 i
	for ((i = 0; i < $3 * 10; i++)); do
		[[ "$($cmd)" == "$want" ]] && return 0
		sleep 0.1
	done
	echo "  $cmd: $($cmd), not $want"
	return 1
}
inside_metric() { metric inside; }
outside_metric() { metric outside; }

live_check "before: egressd_port_link_up{port=\"inside\"} is 1" wait_for inside_metric 1 5
live_check "before: /egress/stats inside link_up is 1" test "$(stat inside/link_up)" = 1

# a connection held open through egressd across the pull
ip netns exec "$LIVE_MESH_NS" timeout 40 redis-cli -h "$LIVE_REDIS_HOST" \
	-p "$LIVE_REDIS_PORT" BLPOP egressd:live:link 30 >/dev/null 2>&1 &
hold=$!
live_track_pid "$hold"
for ((i = 0; i < 50; i++)); do
	[[ "$(stat flows_active)" -ge 1 ]] && break
	sleep 0.1
done
flows_before=$(stat flows_active)
created_before=$(stat flows_created)
rx_before=$(stat inside/rx)
echo "  before the pull: flows_active=$flows_before flows_created=$created_before inside rx=$rx_before"
live_check "a connection is held through egressd" test "$flows_before" -ge 1

ip link set dev "$tap" down
live_check "down: the log says \"inside link down\"" \
	bench_wait_for "$EGRESSD_ERR" 'egressd: inside link down' "$pid" 5
live_check "down: egressd_port_link_up{port=\"inside\"} is 0" wait_for inside_metric 0 5
live_check "down: /egress/stats inside link_up is 0" test "$(stat inside/link_up)" = 0
live_check "down: the outside link stays up (metric 1)" test "$(outside_metric)" = 1

ip link set dev "$tap" up
live_check "up: the log says \"inside link up\" with its speed" \
	bench_wait_for "$EGRESSD_ERR" 'egressd: inside link up, [0-9][0-9]* Mbps' "$pid" 10
live_check "up: egressd_port_link_up{port=\"inside\"} is 1" wait_for inside_metric 1 5
live_check "the same egressd process serves (no restart)" \
	test "$(cat "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" = "$pid"
flows_after=$(stat flows_active)
echo "  after: flows_active=$flows_after flows_created=$(stat flows_created) inside rx=$(stat inside/rx)"
live_check "flows survive the pull: flows_active $flows_after = $flows_before" \
	test "$flows_after" = "$flows_before"
live_check "counters survive: flows_created and inside rx not reset" \
	test "$(stat flows_created)" -ge "$created_before" -a "$(stat inside/rx)" -ge "$rx_before"
live_check "redis answers through egressd after the link came back" \
	bash -c 'for i in 1 2 3 4 5; do [[ "$(ip netns exec "$1" timeout 5 redis-cli -h "$2" -p "$3" PING 2>/dev/null)" == PONG ]] && exit 0; sleep 1; done; exit 1' \
	_ "$LIVE_MESH_NS" "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT"
live_stop_pid "$hold" TERM 5 || true
live_check "egressd stops on SIGTERM with status 0" live_stop_egressd
live_finish
