#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `meson install --destdir` of the build egressd was built in:
#   - exactly these files and no others, at the build's prefix, bindir,
#     sysconfdir, datadir and systemd unit folder: egressd, egressctl,
#     egress-gen, egressd.service, SYSCONFDIR/default/egressd, the four
#     deployment examples and the Memorystore example under
#     SYSCONFDIR/egressd/examples/, egressctl's bash completion;
#   - the unit's ExecStart, EnvironmentFile and ConditionPathExists name the
#     installed paths, and `systemd-analyze verify` says nothing about it
#     (run on a copy whose ExecStart points into the destdir, where the
#     binary is; every other line as installed);
#   - every installed example passes the installed egressd's --check where
#     it is installed, with no diagnostic about the example itself.
#   - the manual pages egressd(8), egressctl(8), egress-gen(1) and
#     egressd.yaml(5) are installed in MANDIR; `man --warnings` renders each
#     without a word on stderr; each program's long options, as its source
#     declares them (struct option), are exactly those its --help and its
#     page's OPTIONS list (egressctl's flows options too); every key the
#     config loader knows (the *_keys[] lists of lib/policy_build/config*.c)
#     is in egressd.yaml(5).
#
# Exit: 0 pass, 1 fail, 77 skip (meson or systemd-analyze missing).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
live_require_built "$EGRESSD"
live_require_tool meson python3 systemd-analyze man col
BUILD=${EGRESSD%/app/egressd/egressd}

TMP=$(mktemp -d /tmp/egressd-install.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
DEST=$TMP/root

if ! meson install -C "$BUILD" --destdir "$DEST" --no-rebuild --quiet >"$TMP/install.log" 2>&1; then
	sed 's/^/  | /' "$TMP/install.log" | tail -5
	live_die "meson install --destdir failed"
fi

# The build's install folders, absolute.
read -r PREFIX BINDIR SYSCONFDIR DATADIR MANDIR UNITDIR < <(meson introspect "$BUILD" --buildoptions |
	python3 -c '
import json, os, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
p = o["prefix"]
print(p, *(os.path.join(p, o[k]) for k in ("bindir", "sysconfdir", "datadir", "mandir")),
      o["systemdunitdir"] or "-")')
if [[ "$UNITDIR" == - ]]; then
	UNITDIR=$PREFIX/lib/systemd/system
	if pkg-config --exists systemd 2>/dev/null; then
		UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd)
	fi
fi

EX=$SYSCONFDIR/egressd/examples
sort >"$TMP/want" <<EOF
$BINDIR/egress-gen
$BINDIR/egressctl
$BINDIR/egressd
$UNITDIR/egressd.service
$SYSCONFDIR/default/egressd
$EX/af-xdp.yaml
$EX/baremetal.yaml
$EX/memorystore/egressd.yaml
$EX/memorystore/policy/redis-egress.yaml
$EX/memorystore/policy/redis-serviceentry.yaml
$EX/sriov-vm.yaml
$EX/virtio-vm.yaml
$DATADIR/bash-completion/completions/egressctl
$MANDIR/man1/egress-gen.1
$MANDIR/man5/egressd.yaml.5
$MANDIR/man8/egressctl.8
$MANDIR/man8/egressd.8
EOF
(cd "$DEST" && find . ! -type d | sed 's|^\.||' | sort) >"$TMP/got"
if diff -u "$TMP/want" "$TMP/got" >"$TMP/diff"; then
	live_pass "meson install: exactly the $(wc -l <"$TMP/want") files expected"
else
	live_fail "meson install: the installed files differ from the list"
	sed 's/^/  | /' "$TMP/diff"
fi

UNIT=$DEST$UNITDIR/egressd.service
[[ -f "$UNIT" ]] || live_die "no unit at $UNITDIR/egressd.service"
want_exec="ExecStart=$BINDIR/egressd \$EGRESSD_EAL_ARGS -- -c $SYSCONFDIR/egressd/egressd.yaml"
if grep -qxF -- "$want_exec" "$UNIT" &&
	grep -qxF -- "EnvironmentFile=-$SYSCONFDIR/default/egressd" "$UNIT" &&
	grep -qxF -- "ConditionPathExists=$SYSCONFDIR/egressd/egressd.yaml" "$UNIT" &&
	! grep -q '@[a-z]*@' "$UNIT"; then
	live_pass "egressd.service: ExecStart, EnvironmentFile, ConditionPathExists at the installed paths"
else
	live_fail "egressd.service: the installed paths are not in it"
	grep -E '^(ExecStart|EnvironmentFile|ConditionPathExists)=' "$UNIT" | sed 's/^/  | /'
fi
missing=()
for kv in Type=notify NotifyAccess=main 'ExecReload=/bin/kill -HUP $MAINPID' \
	Restart=on-failure WatchdogSec=20s LimitMEMLOCK=infinity RuntimeDirectory=egressd \
	LogsDirectory=egressd \
	'CapabilityBoundingSet=CAP_IPC_LOCK CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_RAWIO CAP_SYS_ADMIN CAP_DAC_OVERRIDE'; do
	grep -qxF -- "$kv" "$UNIT" || missing+=("$kv")
done
if ((${#missing[@]} == 0)); then
	live_pass "egressd.service: Type=notify, NotifyAccess=main, ExecReload SIGHUP, Restart, WatchdogSec, MEMLOCK, directories, capabilities"
else
	live_fail "egressd.service: no line ${missing[*]}"
fi

# systemd-analyze verify checks that ExecStart's binary exists: on a copy
# whose ExecStart names the destdir's binary.
mkdir -p "$TMP/verify"
sed "s|^ExecStart=$BINDIR/egressd |ExecStart=$DEST$BINDIR/egressd |" "$UNIT" >"$TMP/verify/egressd.service"
rc=0
out=$(systemd-analyze verify "$TMP/verify/egressd.service" 2>&1) || rc=$?
if [[ $rc == 0 && -z "$out" ]]; then
	live_pass "systemd-analyze verify egressd.service: exit 0, nothing to say"
else
	live_fail "systemd-analyze verify egressd.service: exit $rc"
	sed 's/^/  | /' <<<"$out"
fi

for f in "$DEST$EX"/*.yaml; do
	name=${f##*/}
	rc=0
	"$DEST$BINDIR/egressd" --check -c "$f" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
	own=$(grep -c -F "$f:" "$TMP/$name.err" || true)
	if [[ $rc == 0 && $own == 0 ]] && grep -q $'\t6379\ttcp\t' "$TMP/$name.out"; then
		live_pass "installed examples/$name: --check exit 0, the Memorystore rule"
	else
		live_fail "installed examples/$name: --check exit $rc, $own diagnostic(s) about it"
		sed 's/^/  | /' "$TMP/$name.err" | head -5
	fi
done

# The long options a C file declares in its struct option tables.
code_options() {
	grep -oE '\{ "[a-z][a-z-]*", (no|required)_argument' "$1" | sed -E 's/^\{ "([^"]*)".*/--\1/' | sort -u
}

# The long options of the tag lines (an option, a verb: indented by 7
# exactly) of a rendered page's section SECTION.
page_options() {
	awk -v s="$2" '/^[A-Z]/ { on = ($0 == s) } on && /^       [^ \t]/' "$1" |
		{ grep -oE -- '--[a-z][a-z-]*' || true; } | sort -u
}

for page in man8/egressd.8 man8/egressctl.8 man1/egress-gen.1 man5/egressd.yaml.5; do
	f=$DEST$MANDIR/$page
	rc=0
	MANWIDTH=80 man --warnings -l "$f" 2>"$TMP/man.err" | col -b >"$TMP/${page#*/}.txt" || rc=$?
	if [[ $rc == 0 && ! -s "$TMP/man.err" ]] && grep -q '^NAME' "$TMP/${page#*/}.txt"; then
		live_pass "man --warnings -l ${page#*/}: exit 0, no warning"
	else
		live_fail "man --warnings -l ${page#*/}: exit $rc"
		sed 's/^/  | /' "$TMP/man.err" | head -10
	fi
done

for prog in egressd:app/egressd/main.c:8 egressctl:app/egressctl/egressctl.c:8 egress-gen:app/gen/options.c:1; do
	IFS=: read -r name src sec <<<"$prog"
	code_options "$LIVE_REPO/$src" >"$TMP/$name.code"
	"$DEST$BINDIR/$name" --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$TMP/$name.help"
	page_options "$TMP/$name.$sec.txt" OPTIONS >"$TMP/$name.page"
	if [[ $name == egressctl ]]; then
		# flows' own options: the verb's table in the source, in --help and the page's VERBS
		grep -oE '"--[a-z]+"' "$LIVE_REPO/$src" | tr -d '"' | sort -u >>"$TMP/$name.code"
		page_options "$TMP/$name.$sec.txt" VERBS >>"$TMP/$name.page"
		sort -u -o "$TMP/$name.code" "$TMP/$name.code"
		sort -u -o "$TMP/$name.page" "$TMP/$name.page"
	fi
	live_check "$name: the $(wc -l <"$TMP/$name.code") long options of its source are exactly its --help's" \
		diff -u "$TMP/$name.code" "$TMP/$name.help"
	live_check "$name: ... and exactly those of $name($sec)" \
		diff -u "$TMP/$name.code" "$TMP/$name.page"
done

# Every key the config loader reads, by its *_keys[] list, is in egressd.yaml(5):
# under its section's prefix where the page names keys that way.
keys_missing=$(python3 - "$TMP/egressd.yaml.5.txt" "$LIVE_REPO"/lib/policy_build/config*.c <<'PY'
import re, sys
# a word groff hyphenated at a line's end, joined again
page = re.sub(r"[\u2010-]\n\s+", "", open(sys.argv[1], encoding="utf-8").read())
prefix = {"top_keys": "", "ports_keys": "ports.", "port_keys": "", "exception_keys": "",
          "nat_keys": "nat.", "policy_keys": "policy.", "flows_keys": "flows.",
          "timeouts_keys": "", "per_source_keys": "", "poll_keys": "poll.",
          "flowlog_keys": "flowlog.", "api_keys": "api.", "metrics_keys": "metrics.",
          "sync_keys": "sync."}
out = []
for path in sys.argv[2:]:
    src = open(path).read()
    for name, body in re.findall(r"static const char \*const (\w+_keys)\[\] = \{(.*?)\};", src, re.S):
        if name not in prefix:
            out.append("%s (a list this test does not know)" % name)
            continue
        for key in re.findall(r'"([a-z_]+)"', body):
            if not re.search(r"(?<![\w.])%s(?![\w])" % re.escape(prefix[name] + key), page):
                out.append(prefix[name] + key)
print(" ".join(out))
PY
)
live_check "egressd.yaml(5) names every key of the config loader${keys_missing:+ (missing: $keys_missing)}" \
	test -z "$keys_missing"

live_finish
