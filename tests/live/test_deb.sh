#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# scripts/build-deb.sh: the Debian package builds out of tree (about a
# minute) and lintian finds no error in it.
#   - build-deb.sh exits 0, lintian reports 0 errors, the checkout is as
#     clean as before (git status unchanged);
#   - lintian says nothing about a program without a manual page
#     (no-manual-page, binary-without-manpage), and warns about nothing;
#   - egressd_VERSION_ARCH.deb holds exactly the files meson installs with
#     Debian's paths (the manual pages compressed), plus the changelog and
#     copyright;
#   - Depends has the libraries shlibs computed (librte-eal23, libyaml) and
#     the DPDK plugins no linker sees (librte-mempool-ring23, the buses);
#   - /etc/default/egressd and the examples are conffiles; the maintainer
#     scripts enable egressd.service (dh_installsystemd).
#
# Exit: 0 pass, 1 fail, 77 skip (dpkg-buildpackage, debhelper or lintian
# missing).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
live_require_tool dpkg-buildpackage dh lintian git

TMP=$(mktemp -d /tmp/egressd-debtest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

before=$(git -C "$LIVE_REPO" status --porcelain)
rc=0
bash "$LIVE_REPO/scripts/build-deb.sh" "$TMP/out" >"$TMP/log" 2>&1 || rc=$?
if [[ $rc == 0 ]] && grep -q '^build-deb: lintian: 0 error(s)' "$TMP/log"; then
	live_pass "build-deb.sh: built, lintian: $(sed -n 's/^build-deb: lintian: //p' "$TMP/log")"
else
	live_fail "build-deb.sh: exit $rc"
	grep -E '^(E|W): |^build-deb: ' "$TMP/log" | sed 's/^/  | /' | head -20
fi
# every program has its page (lintian's tag: no-manual-page; before
# Debian 12, binary-without-manpage), and lintian has nothing to warn about
live_check "lintian: no program without a manual page (no-manual-page, binary-without-manpage)" \
	bash -c '! grep -E "no-manual-page|binary-without-manpage" "$1"' _ "$TMP/log"
live_check "lintian: no warning at all ($(grep -c '^W: ' "$TMP/log" || true) W: lines)" \
	bash -c '! grep -q "^W: " "$1"' _ "$TMP/log"
live_check "build-deb.sh left the checkout as it was" \
	test "$(git -C "$LIVE_REPO" status --porcelain)" == "$before"

version=$(dpkg-parsechangelog -l "$LIVE_REPO/debian/changelog" -S Version)
deb=$TMP/out/egressd_${version}_$(dpkg --print-architecture).deb
[[ -f "$deb" ]] || live_die "no $deb"

dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sort >"$TMP/got"
sort >"$TMP/want" <<'EOF'
./etc/default/egressd
./etc/egressd/examples/af-xdp.yaml
./etc/egressd/examples/baremetal.yaml
./etc/egressd/examples/memorystore/egressd.yaml
./etc/egressd/examples/memorystore/policy/redis-egress.yaml
./etc/egressd/examples/memorystore/policy/redis-serviceentry.yaml
./etc/egressd/examples/sriov-vm.yaml
./etc/egressd/examples/virtio-vm.yaml
./lib/systemd/system/egressd.service
./usr/bin/egress-gen
./usr/bin/egressctl
./usr/bin/egressd
./usr/share/bash-completion/completions/egressctl
./usr/share/doc/egressd/changelog.gz
./usr/share/doc/egressd/copyright
./usr/share/man/man1/egress-gen.1.gz
./usr/share/man/man5/egressd.yaml.5.gz
./usr/share/man/man8/egressctl.8.gz
./usr/share/man/man8/egressd.8.gz
EOF
if diff -u "$TMP/want" "$TMP/got" >"$TMP/diff"; then
	live_pass "the .deb: exactly the $(wc -l <"$TMP/want") files expected"
else
	live_fail "the .deb's files differ from the list"
	sed 's/^/  | /' "$TMP/diff"
fi

depends=$(dpkg-deb -f "$deb" Depends)
missing=()
for p in librte-eal23 librte-ethdev23 libyaml-0-2 libnuma1 libmicrohttpd12 \
	librte-mempool-ring23 librte-bus-pci23 librte-bus-vdev23; do
	grep -qE "(^|, )$p( |,|$)" <<<"$depends" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	live_pass "Depends: shlibs' libraries and DPDK's plugins"
else
	live_fail "Depends lacks ${missing[*]}: $depends"
fi

mkdir -p "$TMP/ctl"
dpkg-deb -e "$deb" "$TMP/ctl"
# every file under /etc, and nothing else, is a conffile
grep '^\./etc/' "$TMP/want" | sed 's/^\.//' >"$TMP/want-conffiles"
live_check "conffiles: exactly /etc/default/egressd and the examples" \
	diff -u "$TMP/want-conffiles" <(sort "$TMP/ctl/conffiles")
live_check "postinst enables egressd.service" \
	grep -qF "deb-systemd-helper enable 'egressd.service'" "$TMP/ctl/postinst"

live_finish
