#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live: GET /metrics (metrics.listen), two workers.
#
#   - the scrape passes `promtool check metrics` and has # HELP / # TYPE for
#     every family;
#   - after traffic (allowed sessions, denied SYNs) and a SIGHUP reload, each
#     sample equals /egress/stats of the same moment (two identical scrapes
#     around the telemetry answer): ports (link state too), every drop reason, flows,
#     generation, reloads;
#   - other paths are 404, other methods 405;
#   - scrapers that connect and stay silent, send half a request, or send a
#     request and never read do not stall a second scrape (within 2 s);
#   - one address holding 8 connections has its 9th closed unanswered while
#     another address is served;
#   - the per-rule families (flows, packets and bytes each way, near misses),
#     egressd_port_bytes_total and egressd_denied_no_address_total pass
#     promtool and equal `egressctl --json rules` / `stats` exactly, with the
#     traffic stopped, before and after one more redis session, a SYN to
#     6380 and one to an unknown address; the redis rule's 10 earlier flows
#     survived two reloads; each denied SYN is one near miss or one no-address
#     deny;
#   - NAT saturation: with 6 redis sessions held open, the nat families pass
#     promtool and equal `egressctl --json nat` of the same moment (ports in
#     use, fullest share, per address), ports in use equal the flows in the
#     tables, and the redis destination's row holds every one of them.
#
# Exit: 0 pass, 1 fail, 77 skip.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

live_require curl promtool
live_topology_up

# The root namespace's loopback: egressd runs there; the port per test run.
port=$((20000 + LIVE_SFX))
url="http://127.0.0.1:$port/metrics"

dir="$LIVE_TMP/metrics"
conf=$(live_write_config "$dir" "$LIVE_REPO/config/memorystore/policy")
sed -i -e 's/^workers: 1$/workers: 2/' \
	-e "s/iface=$LIVE_IN_DEV\"/iface=$LIVE_IN_DEV,qpairs=2\"/" \
	-e "s/iface=$LIVE_OUT_DEV\"/iface=$LIVE_OUT_DEV,qpairs=2\"/" "$conf"
printf 'metrics: { listen: "127.0.0.1:%s" }\n' "$port" >>"$conf"
grep -q 'qpairs=2' "$conf" || live_die "config not rewritten for two queue pairs"
LIVE_LCORES="--lcores 0@0,1@1,2@1" live_start_egressd "$conf" || live_die "egressd did not start"
live_check "the log names the metrics address" grep -q "metrics on $url" "$EGRESSD_ERR" "$EGRESSD_OUT"

# Traffic: allowed sessions, and denied SYNs (no ServiceEntry for 6380).
ok=0
for ((i = 0; i < 10; i++)); do
	[[ "$(mesh_exec timeout 5 redis-cli -h "$LIVE_REDIS_HOST" -p 6379 PING 2>/dev/null)" == PONG ]] &&
		ok=$((ok + 1))
done
live_check "10 allowed sessions answered" test "$ok" = 10
live_check "6380 is denied" expect_timeout "$LIVE_REDIS_HOST" 6380
kill -HUP "$EGRESSD_PID"
for ((i = 0; i < 50; i++)); do
	curl -s "$url" | grep -q '^egressd_policy_generation 2$' && break
	sleep 0.1
done
sleep 1 # the last retransmissions and replies

scrape="$LIVE_TMP/scrape.txt"
curl -sS -D "$LIVE_TMP/headers.txt" -o "$scrape" "$url" || live_die "scrape failed"
live_check "content type is the 0.0.4 text format" \
	grep -qi '^content-type: text/plain; version=0.0.4' "$LIVE_TMP/headers.txt"
promtool check metrics <"$scrape" >"$LIVE_TMP/promtool.out" 2>&1 || true
echo "  promtool: $(tr '\n' ' ' <"$LIVE_TMP/promtool.out")"
live_check "promtool check metrics passes, no lint finding" \
	bash -c 'promtool check metrics <"$1" >/dev/null 2>&1 && ! test -s "$2"' _ "$scrape" \
	"$LIVE_TMP/promtool.out"

# every family has HELP and TYPE, and every sample a family
live_check "every sample belongs to a family with # HELP and # TYPE" python3 - "$scrape" <<-'PY'
import re, sys
help_, type_, fams = set(), set(), set()
for line in open(sys.argv[1]):
    if line.startswith("# HELP "):
        help_.add(line.split()[2])
    elif line.startswith("# TYPE "):
        type_.add(line.split()[2])
    else:
        fams.add(re.match(r"[a-z_]+", line).group(0))
sys.exit(0 if fams and fams == help_ == type_ else 1)
PY

# The same moment: two scrapes with equal values around one /egress/stats.
same=0
for ((i = 0; i < 10; i++)); do
	curl -s "$url" >"$LIVE_TMP/a.txt"
	live_telemetry /egress/stats >"$LIVE_TMP/stats.json"
	curl -s "$url" >"$LIVE_TMP/b.txt"
	if cmp -s "$LIVE_TMP/a.txt" "$LIVE_TMP/b.txt"; then
		same=1
		break
	fi
	sleep 0.3
done
live_check "two scrapes in a row agree (traffic has stopped)" test "$same" = 1
cmp_out="$LIVE_TMP/compare.out"
python3 - "$LIVE_TMP/a.txt" "$LIVE_TMP/stats.json" >"$cmp_out" 2>&1 <<-'PY' || true
import json, re, sys

st = json.load(open(sys.argv[2]))["/egress/stats"]
want = {}
for port in ("inside", "outside"):
    for d in ("rx", "tx"):
        want[f'egressd_port_packets_total{{port="{port}",direction="{d}"}}'] = st[port][d]
        want[f'egressd_port_bytes_total{{port="{port}",direction="{d}"}}'] = st[port][d + "_bytes"]
    want[f'egressd_port_link_up{{port="{port}"}}'] = st[port]["link_up"]
    for d in ("to_host", "from_host"):
        want[f'egressd_exception_frames_total{{port="{port}",direction="{d}"}}'] = st[port]["exception_" + d]
    want[f'egressd_exception_host_dropped_total{{port="{port}"}}'] = st[port]["exception_host_dropped"]
want["egressd_denied_no_address_total"] = st["denied_no_address"]
want["egressd_nat_spills_total"] = st["nat_spilled"]
for reason, v in st["drops"].items():
    want[f'egressd_drops_total{{reason="{reason}"}}'] = v
want["egressd_flows_active"] = st["flows_active"]
want["egressd_flows_created_total"] = st["flows_created"]
want["egressd_flows_revoked_total"] = st["flows_revoked"]
want["egressd_policy_generation"] = st["policy_generation"]
want["egressd_draining"] = st["draining"]
want["egressd_drain_left_seconds"] = st["drain_left_ms"] // 1000
want['egressd_reloads_total{result="ok"}'] = st["reloads"]
want['egressd_reloads_total{result="failed"}'] = st["reload_failures"]
for k in ("records", "dropped", "suppressed", "unwritten"):
    want[f"egressd_flowlog_{k}_total"] = st[f"flowlog_{k}"]
for k in ("records_sent", "records_received", "records_malformed", "peer_flows_dropped",
          "flows_installed"):
    want[f"egressd_sync_{k}_total"] = st[f"sync_{k}"]
for k in ("peer_flows", "peer_alive", "takeover"):
    want[f"egressd_sync_{k}"] = st[f"sync_{k}"]
want["egressd_sync_records_lost_total"] = st["sync_records_lost"] + st["sync_send_errors"]
got = {}
for line in open(sys.argv[1]):
    # the per-rule families are compared with egressctl rules below
    if not line.startswith("#") and not line.startswith("egressd_rule_"):
        k, v = line.rsplit(" ", 1)
        # the NAT gauges have no /egress/stats key: compared with egressctl below
        if k.startswith(("egressd_nat_ports_in_use", "egressd_nat_port_utilization_max",
                         "egressd_nat_untracked_flows")):
            continue
        got[k] = int(v)
bad = 0
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        print(f"MISMATCH {k}: /metrics {got.get(k)} /egress/stats {want.get(k)}")
        bad += 1
print(f"{len(want)} samples compared, {bad} differ")
for k in ('egressd_port_packets_total{port="inside",direction="rx"}',
          'egressd_drops_total{reason="policy_denied"}', "egressd_flows_created_total"):
    print(f"{k} {got.get(k)}")
sys.exit(1 if bad else 0)
PY
sed 's/^/  /' "$cmp_out"
live_check "every sample equals /egress/stats, every drop reason listed" \
	grep -q ' samples compared, 0 differ$' "$cmp_out"
live_check "the allowed sessions were counted" \
	grep -qE '^egressd_flows_created_total ([1-9][0-9]+)$' "$LIVE_TMP/a.txt"
live_check "the denied SYNs were counted" \
	grep -qE '^egressd_drops_total\{reason="policy_denied"\} [1-9]' "$LIVE_TMP/a.txt"
live_check "the SIGHUP reload: generation 2, one ok reload" \
	grep -qzE 'egressd_policy_generation 2.*egressd_reloads_total\{result="ok"\} 1' "$LIVE_TMP/a.txt"
live_check "both workers' packets are summed" \
	grep -qE '^egressd_port_packets_total\{port="inside",direction="rx"\} [1-9][0-9]' "$LIVE_TMP/a.txt"

code() {
	curl -s -o /dev/null -w '%{http_code}' "$@"
}
live_check "another path is 404" test "$(code "http://127.0.0.1:$port/other")" = 404
live_check "POST is 405" test "$(code -X POST -d x "$url")" = 405
live_check "HEAD is 200" test "$(code -I "$url")" = 200

# Scrapers that hold connections: silent, half a request, never reading.
exec 7<>"/dev/tcp/127.0.0.1/$port"
exec 8<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n' >&8
exec 9<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >&9
sleep 0.5
t0=$(date +%s%N)
live_check "a second scrape completes within 2 s while three others hold connections" \
	bash -c 'curl -sf --max-time 2 "$1" | grep -q "^egressd_flows_active "' _ "$url"
t1=$(date +%s%N)
echo "  second scrape took $(((t1 - t0) / 1000000)) ms"
live_telemetry /egress/stats >"$LIVE_TMP/stats2.json" || true
live_check "telemetry still answers meanwhile" grep -q flows_active "$LIVE_TMP/stats2.json"
kill -HUP "$EGRESSD_PID"
gen3=0
for ((i = 0; i < 50; i++)); do
	curl -s --max-time 2 "$url" | grep -q '^egressd_policy_generation 3$' && gen3=1 && break
	sleep 0.1
done
live_check "the control thread still reloads meanwhile (generation 3 within 5 s)" test "$gen3" = 1
exec 7>&- 8>&- 9>&-

# One peer holding 8 silent connections is at its limit: its 9th is closed
# unanswered, while another address (127.0.0.2) is still served.
per_ip() {
	python3 - "$port" <<-'PY'
	import socket, sys, time
	port = int(sys.argv[1])
	def conn(src):
	    s = socket.socket(); s.settimeout(3); s.bind((src, 0)); s.connect(("127.0.0.1", port))
	    return s
	def get(src):
	    s = conn(src)
	    try:
	        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	        return s.recv(12)
	    except OSError as e:
	        return repr(e).encode()
	held = [conn("127.0.0.1") for _ in range(8)]
	time.sleep(0.3)
	ninth, other = get("127.0.0.1"), get("127.0.0.2")
	print("   9th from 127.0.0.1:", ninth, "- from 127.0.0.2:", other)
	sys.exit(0 if not ninth.startswith(b"HTTP/") and other == b"HTTP/1.1 200" else 1)
	PY
}
live_check "8 connections per address: a 9th is refused, another address served" per_ip

# Per-rule counters and port bytes (issue 13) against egressctl's rules and
# stats of the same moment, around one more redis session, a SYN to 6380
# (near misses of the redis rule) and one to an address no entry lists.
EGRESSCTL=${EGRESSCTL:-$LIVE_REPO/build/app/egressctl/egressctl}
ctl_json() {
	"$EGRESSCTL" -s "$dir/egressd.sock" --json "$@"
}
# scrape, rules, stats, scrape until both scrapes agree; into $1.*
settled() {
	local i
	for ((i = 0; i < 20; i++)); do
		curl -s "$url" >"$1.a"
		ctl_json rules >"$1.rules" && ctl_json stats >"$1.stats" || return 1
		curl -s "$url" >"$1.b"
		cmp -s "$1.a" "$1.b" && return 0
		sleep 0.3
	done
	return 1
}
live_check "rules and stats settle (before)" settled "$LIVE_TMP/r0"
[[ "$(mesh_exec timeout 5 redis-cli -h "$LIVE_REDIS_HOST" -p 6379 PING 2>/dev/null)" == PONG ]] ||
	live_fail "one more redis session answered"
live_check "6380 is denied (near misses)" expect_timeout "$LIVE_REDIS_HOST" 6380
live_check "$LIVE_REDIS_OTHER_HOST is denied (no address)" \
	expect_timeout "$LIVE_REDIS_OTHER_HOST" 6379
sleep 1
live_check "rules and stats settle (after)" settled "$LIVE_TMP/r1"
promtool check metrics <"$LIVE_TMP/r1.a" >"$LIVE_TMP/promtool2.out" 2>&1 || true
live_check "promtool passes with the per-rule families" \
	bash -c 'promtool check metrics <"$1" >/dev/null 2>&1 && ! test -s "$2"' _ \
	"$LIVE_TMP/r1.a" "$LIVE_TMP/promtool2.out"
rules_out="$LIVE_TMP/rules-compare.out"
python3 - "$LIVE_TMP/r0" "$LIVE_TMP/r1" >"$rules_out" 2>&1 <<-'PY' || true
import json, sys

def load(pfx):
    got = {}
    for line in open(pfx + ".a"):
        # every sample a whole number but the NAT share (compared below)
        if not line.startswith(("#", "egressd_nat_port_utilization_max")):
            k, v = line.rsplit(" ", 1)
            got[k] = int(v)
    rules = json.load(open(pfx + ".rules"))  # --json rules: one array
    return got, rules, json.load(open(pfx + ".stats"))

bad = []
def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        bad.append(what)

R = "ServiceEntry/default/redis-serviceentry"
snap = []
for pfx in sys.argv[1:]:
    got, rules, st = load(pfx)
    want = {}
    for r in rules:
        lab = f'rule="{r["rule"]}",port="{r["port"]}"'
        want[f"egressd_rule_flows_total{{{lab}}}"] = r["flows"]
        want[f"egressd_rule_near_miss_total{{{lab}}}"] = r["near_miss"]
        for d in ("out", "in"):
            want[f'egressd_rule_packets_total{{{lab},direction="{d}"}}'] = r["packets_" + d]
            want[f'egressd_rule_bytes_total{{{lab},direction="{d}"}}'] = r["bytes_" + d]
    for port in ("inside", "outside"):
        for d in ("rx", "tx"):
            want[f'egressd_port_bytes_total{{port="{port}",direction="{d}"}}'] = st["ports"][port][d + "_bytes"]
    want["egressd_denied_no_address_total"] = st["denied_no_address"]
    mine = {k: v for k, v in got.items()
            if k.startswith(("egressd_rule_", "egressd_port_bytes_", "egressd_denied_no_address"))}
    diff = [k for k in set(want) | set(mine) if want.get(k) != mine.get(k)]
    for k in sorted(diff):
        print(f"  MISMATCH {k}: /metrics {mine.get(k)} egressctl {want.get(k)}")
    check(f"{pfx}: {len(want)} samples equal egressctl rules/stats", not diff and len(want) > 8)
    redis = [r for r in rules if r["rule"] == R]
    check(f"{pfx}: the seed's entry is named {R}", len(redis) == 1)
    snap.append((redis[0] if redis else {}, st))
(r0, s0), (r1, s1) = snap
print("  redis rule before:", r0, "\n  after:", r1)
check("the 10 sessions before two reloads still counted (carried): flows == flows_created",
      r0.get("flows") == s0["flows_created"] == 10)
check("one more session: flows +1", r1.get("flows", 0) - r0.get("flows", 0) == 1)
check("its frames counted both ways",
      r1["packets_out"] - r0["packets_out"] >= 3 and r1["packets_in"] - r0["packets_in"] >= 2
      and r1["bytes_out"] - r0["bytes_out"] >= 60 * 3)
near = r1["near_miss"] - r0["near_miss"]
noaddr = s1["denied_no_address"] - s0["denied_no_address"]
denied = s1["drops"]["policy_denied"] - s0["drops"]["policy_denied"]
check(f"6380: near misses of the redis rule ({near}); the unknown address: no rule ({noaddr})",
      near >= 1 and noaddr >= 1)
check(f"every denied SYN counted once: {denied} == {near} + {noaddr}", denied == near + noaddr)
print("all checks hold" if not bad else f"{len(bad)} checks fail")
sys.exit(1 if bad else 0)
PY
sed 's/^/  /' "$rules_out"
live_check "per-rule counters, port bytes and no-address denies equal egressctl's, exactly" \
	grep -qx 'all checks hold' "$rules_out"

# NAT saturation: sessions held open, /metrics against egressctl's nat.
SOCK="$dir/egressd.sock"
ip netns exec "$LIVE_MESH_NS" python3 - "$LIVE_REDIS_HOST" "$LIVE_REDIS_PORT" <<-'PY' &
import socket, sys, time
socks = [socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) for _ in range(6)]
time.sleep(30)
PY
held=$!
live_track_pid "$held"
nat_same() {
	local i
	for ((i = 0; i < 30; i++)); do
		curl -s "$url" >"$LIVE_TMP/n1.txt"
		"$EGRESSCTL" -s "$SOCK" --json nat >"$LIVE_TMP/nat.json" || return 1
		curl -s "$url" >"$LIVE_TMP/n2.txt"
		cmp -s "$LIVE_TMP/n1.txt" "$LIVE_TMP/n2.txt" &&
			grep -qE '^egressd_nat_ports_in_use\{address="'"$LIVE_NAT_ADDR"'"\} ([6-9]|[1-9][0-9]+)$' \
				"$LIVE_TMP/n1.txt" && return 0
		sleep 0.3
	done
	return 1
}
live_check "6 sessions held: two scrapes agree around egressctl nat" nat_same
promtool check metrics <"$LIVE_TMP/n1.txt" >"$LIVE_TMP/promtool2.out" 2>&1 || true
live_check "promtool passes the scrape with the nat families, no lint finding" \
	bash -c 'promtool check metrics <"$1" >/dev/null 2>&1 && ! test -s "$2"' _ "$LIVE_TMP/n1.txt" \
	"$LIVE_TMP/promtool2.out"
live_check "the nat families equal egressctl --json nat" python3 - "$LIVE_TMP/n1.txt" \
	"$LIVE_TMP/nat.json" "$LIVE_NAT_ADDR" "$LIVE_REDIS_HOST" <<-'PY'
import json, sys
prom = {}
for line in open(sys.argv[1]):
    if not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        prom[k] = v.strip()
rows = json.load(open(sys.argv[2]))
addrs = [r for r in rows if "dst" not in r]
dests = [r for r in rows if "dst" in r]
a = [r for r in addrs if r["address"] == sys.argv[3]]
ok = len(a) == 1
if ok:
    a = a[0]
    lbl = '{address="%s"}' % a["address"]
    used = int(prom["egressd_nat_ports_in_use" + lbl])
    util = float(prom["egressd_nat_port_utilization_max" + lbl])
    redis = [d for d in dests if d["address"] == a["address"] and d["dst"] == sys.argv[4]
             and d["dport"] == 6379 and d["proto"] == "tcp"]
    print("   /metrics: ports_in_use %d, utilization_max %g; egressctl: %r" % (used, util, a))
    print("   redis destination rows:", redis)
    # every flow holds one port of the one NAT address: exactly the flows
    ok = (used == a["ports_in_use"] and util == a["utilization_max"] and used >= 6
          and used == int(prom["egressd_flows_active"])
          and a["fullest"]["dst"] == sys.argv[4] and a["fullest"]["dport"] == 6379
          and a["destinations"] >= 1 and len(redis) == 1
          and redis[0]["ports_in_use"] == used
          and abs(util - a["fullest"]["ports_in_use"] / a["fullest"]["share_ports"]) <= 1e-5 * util
          and prom["egressd_nat_untracked_flows"] == str(a["untracked_flows"]) == "0")
sys.exit(0 if ok else 1)
PY
live_stop_pid "$held" TERM 2 || true


live_stop_egressd || live_fail "egressd did not stop cleanly"
live_check "the port is closed after exit" bash -c '! curl -s --max-time 2 "$1" >/dev/null' _ "$url"
live_finish
