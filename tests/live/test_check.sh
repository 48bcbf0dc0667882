#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `egressd --check` on the whole corpus, as an operator or CI would run it:
# as an unprivileged user, with no EAL options, hugepages or devices.
#   - every valid document: exit 0, the compiled table on stdout with as many
#     rules as its golden table (tests/data/istio/valid/*.compiled);
#   - every invalid document: exit 1, and every error its .expected file lists
#     printed as FILE:LINE:COL: error: message;
#   - every parity case (tests/data/istio/parity): Istio's verdict, or a
#     reason in its kind's DISAGREEMENTS file;
#   - the Memorystore config: exit 0, the 10.59.118.59/32 6379 tcp rule;
#   - every deployment example (config/baremetal.yaml, sriov-vm.yaml,
#     virtio-vm.yaml, af-xdp.yaml, pcap-bench.yaml): exit 0, the same rule,
#     and not one diagnostic about the config file itself (an unknown or
#     misspelt key is a warning: an example must have none).
#
# Exit: 0 pass, 1 fail, 77 skip (root without runuser; under CI=true a
# failure, see lib.sh).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$LIVE_REPO
CORPUS=$ROOT/tests/data/istio
live_require_built "$EGRESSD"
# as root, the checks run as nobody: without runuser they would run as root
# and no longer show that --check needs no privilege
((EUID != 0)) || live_require_tool runuser

TMP=$(mktemp -d /tmp/egressd-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP"
# the checkout may not be readable by others (a clone in a 0700 folder):
# nobody runs a copy of the binary, on copies of the configs
cp "$EGRESSD" "$TMP/egressd"
chmod 755 "$TMP/egressd"
EGRESSD=$TMP/egressd
cp -r "$ROOT/config/memorystore" "$TMP/memorystore"
# the deployment examples name memorystore/policy/ relative to themselves
EXAMPLES=(baremetal sriov-vm virtio-vm af-xdp pcap-bench)
for name in "${EXAMPLES[@]}"; do
	cp "$ROOT/config/$name.yaml" "$TMP/$name.yaml"
done
chmod -R a+rX "$TMP/memorystore" "$TMP"/*.yaml

# as nobody when we can be someone else: --check needs no privilege
as_user() {
	if ((EUID == 0)); then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

# setup NAME FILE: a config whose only source is FILE, in its own folder.
setup() {
	local d="$TMP/$1"
	mkdir -p "$d/policy"
	cp "$2" "$d/policy/"
	cat >"$d/egressd.yaml" <<-EOF
	ports:
	  inside:  { device: "net_null0", address: 10.8.0.1/16 }
	  outside: { device: "net_null1", address: 203.0.113.10/24, gateway: 203.0.113.1 }
	policy: { sources: [policy/] }
	EOF
	chmod -R a+rX "$d"
	echo "$d"
}

for f in "$CORPUS"/valid/*.yaml; do
	name=$(basename "$f" .yaml)
	golden="$CORPUS/valid/$name.compiled"
	d=$(setup "v-$name" "$f")
	rc=0
	as_user "$EGRESSD" --check -c "$d/egressd.yaml" >"$d/out" 2>"$d/err" || rc=$?
	if [[ $rc != 0 ]]; then
		live_fail "valid $name: exit $rc"
		sed 's/^/  | /' "$d/err" | head -5
		continue
	fi
	got=$(grep -c -v '^#' "$d/out" || true)
	want=$got
	[[ -f "$golden" ]] && want=$(grep -c -v '^#' "$golden" || true)
	if [[ "$got" == "$want" ]] && grep -q '^# outbound' "$d/out"; then
		live_pass "valid $name: exit 0, $got rules"
	else
		live_fail "valid $name: $got rules printed, golden has $want"
	fi
done

for f in "$CORPUS"/invalid/*.yaml; do
	name=$(basename "$f" .yaml)
	d=$(setup "i-$name" "$f")
	rc=0
	as_user "$EGRESSD" --check -c "$d/egressd.yaml" >"$d/out" 2>"$d/err" || rc=$?
	missing=0
	while IFS= read -r line; do
		[[ "$line" == *": error: "* ]] || continue
		grep -qF -- "$d/policy/$line" "$d/err" || {
			missing=$((missing + 1))
			echo "  missing: $line"
		}
	done <"$CORPUS/invalid/$name.expected"
	if [[ $rc == 1 && $missing == 0 ]] && [[ ! -s "$d/out" ]]; then
		live_pass "invalid $name: exit 1, every expected error at its position"
	else
		live_fail "invalid $name: exit $rc, $missing expected errors missing"
		sed 's/^/  | /' "$d/err" | head -5
	fi
done

# Parity with Istio (tests/data/istio/parity, see test_istio.c): the whole of
# --check, compile included, gives Istio's verdict on every case, except the
# ones KIND/DISAGREEMENTS lists.
parity_total=0
parity_agree=0
parity_bad=0
for f in "$CORPUS"/parity/*/*/*.yaml; do
	rel=${f#"$CORPUS/parity/"}
	kind=${rel%%/*}
	verdict=${rel#*/}
	verdict=${verdict%%/*}
	d=$(setup "p-${rel//\//-}" "$f")
	rc=0
	as_user "$EGRESSD" --check -c "$d/egressd.yaml" >/dev/null 2>"$d/err" || rc=$?
	listed=0
	grep -qxF -- "$rel" <(sed -n 's/\.yaml:.*/.yaml/p' \
		"$CORPUS/parity/$kind/DISAGREEMENTS" 2>/dev/null) && listed=1
	parity_total=$((parity_total + 1))
	if [[ ($verdict == valid && $rc == 0) || ($verdict == invalid && $rc == 1) ]]; then
		parity_agree=$((parity_agree + 1))
		if ((listed)); then
			parity_bad=$((parity_bad + 1))
			echo "  parity: $rel agrees with Istio, yet DISAGREEMENTS lists it"
		fi
	elif ((!listed)) || [[ $rc != 0 && $rc != 1 ]]; then
		parity_bad=$((parity_bad + 1))
		echo "  parity: $rel: Istio says $verdict, --check exits $rc"
		sed 's/^/  | /' "$d/err" | head -3
	fi
	rm -rf "$d"
done
if ((parity_bad == 0 && parity_agree * 100 >= parity_total * 95)); then
	live_pass "parity: --check agrees with Istio on $parity_agree of $parity_total cases"
else
	live_fail "parity: $parity_bad unexplained of $parity_total ($parity_agree agree)"
fi

rc=0
out=$(as_user "$EGRESSD" --check -c "$TMP/memorystore/egressd.yaml" 2>/dev/null) || rc=$?
if [[ $rc == 0 ]] && grep -qE $'\t10\\.59\\.118\\.59/32\t6379\ttcp\t' <<<"$out"; then
	live_pass "config/memorystore: the Memorystore rule"
else
	live_fail "config/memorystore: exit $rc"
fi

for name in "${EXAMPLES[@]}"; do
	rc=0
	as_user "$EGRESSD" --check -c "$TMP/$name.yaml" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
	own=$(grep -c -F "$TMP/$name.yaml:" "$TMP/$name.err" || true)
	if [[ $rc == 0 && $own == 0 ]] &&
		grep -qE $'\t10\\.59\\.118\\.59/32\t6379\ttcp\t' "$TMP/$name.out"; then
		live_pass "config/$name.yaml: exit 0, no diagnostic about it, the Memorystore rule"
	else
		live_fail "config/$name.yaml: exit $rc, $own diagnostic(s) about it"
		sed 's/^/  | /' "$TMP/$name.err" | head -5
	fi
done

live_finish
