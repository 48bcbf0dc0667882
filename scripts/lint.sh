#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Lint the source tree. Fails (exit 1, one "FILE:LINE: message" per problem) on:
#   - a .c/.h/.sh/meson.build file or shell script without an
#     SPDX-License-Identifier line in its first lines;
#   - forbidden tokens in library code (lib/), comments and strings excluded:
#       everywhere:   printf( puts( fprintf(stdout  rte_exit( rte_panic( exit(
#                     pthread_mutex
#       hot path (lib/dp lib/pkt lib/flow lib/nat): malloc( calloc( realloc( strdup(
#       lib/dp:       sleep( usleep( nanosleep(
#     (fprintf(out, ...) to a caller-given FILE* is allowed);
#   - trailing whitespace in any text file;
#   - shellcheck warnings, when shellcheck is installed (it is not required);
#   - a check that could not run (python3 missing or crashing, grep unable to
#     read a file, shellcheck failing silently): a check that did not run
#     never passes.
#   - a C file that differs from .clang-format (clang-format --dry-run --Werror;
#     hand-aligned tables sit between "clang-format off" / "on" comments).
#
# Usage: scripts/lint.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PROBLEMS=0
SPDX_LINES=10
FOUND_RC=10 # the forbidden-token check's exit status when it found something

problem() {
	echo "$1"
	PROBLEMS=$((PROBLEMS + 1))
}

# Every file of the tree, tracked or new, that git does not ignore (so build
# folders are left out); without git, every file outside .git and build*/.
list_files() {
	local f
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		while IFS= read -r -d '' f; do
			[[ -f "$f" && ! -L "$f" ]] && printf '%s\n' "$f"
		done < <(git ls-files -z -co --exclude-standard)
	else
		find . \( -path ./.git -o -path './build*' \) -prune -o -type f -print |
			sed 's|^\./||' | sort
	fi
}

is_shell_script() {
	local f=$1 first
	[[ "$f" == *.sh ]] && return 0
	first=$(head -c 64 "$f" 2>/dev/null | tr -d '\0' | head -n 1) || return 1
	[[ "$first" =~ ^#!.*(/|[[:space:]])(ba)?sh([[:space:]]|$) ]]
}

check_spdx() {
	local f
	for f in "${FILES[@]}"; do
		case "$f" in
		*.c | *.h | *.sh | meson.build | */meson.build) ;;
		*) is_shell_script "$f" || continue ;;
		esac
		if ! head -n "$SPDX_LINES" "$f" | grep -q 'SPDX-License-Identifier:'; then
			problem "$f:1: no SPDX-License-Identifier line in the first $SPDX_LINES lines"
		fi
	done
}

# Forbidden tokens in lib/: comments, string and character literals are blanked
# first (line numbers kept), so a comment may name what the code must not do.
check_forbidden() {
	local lib_files=()
	local f
	for f in "${FILES[@]}"; do
		[[ "$f" == lib/*.[ch] ]] && lib_files+=("$f")
	done
	((${#lib_files[@]} == 0)) && return 0
	local out rc=0
	# Exit 0: clean; FOUND_RC: the problems printed. Anything else (no
	# python3, a crash: an uncaught exception exits 1) fails the lint: a
	# check that did not run must not pass.
	out=$(python3 - "${lib_files[@]}" <<'PY'
import re
import sys

RULES = [
    # (path prefixes, regex, message)
    (("lib/",), r"\bv?printf\s*\(", "printf() in library code: log with RTE_LOG, or print to a caller-given FILE *"),
    (("lib/",), r"\bputs\s*\(", "puts() in library code: log with RTE_LOG, or print to a caller-given FILE *"),
    (("lib/",), r"\bv?fprintf\s*\(\s*stdout\b", "fprintf(stdout) in library code: print to a caller-given FILE *"),
    (("lib/",), r"\brte_exit\s*\(", "rte_exit() in library code: return -errno and let the caller decide"),
    (("lib/",), r"\brte_panic\s*\(", "rte_panic() in library code: return -errno and let the caller decide"),
    (("lib/",), r"\bexit\s*\(", "exit() in library code: return -errno and let the caller decide"),
    (("lib/",), r"\bpthread_mutex", "pthread_mutex in library code: lock-free structures and RCU only"),
    (("lib/dp/", "lib/pkt/", "lib/flow/", "lib/nat/"), r"\b(malloc|calloc|realloc|strdup)\s*\(",
     "libc allocation in a hot-path module: preallocate (rte_zmalloc_socket, mempools) at setup"),
    (("lib/dp/",), r"\b(u|nano)?sleep\s*\(", "sleeping in the data path"),
]


def blank_comments_and_strings(text):
    out = []
    i, n = 0, len(text)
    state = None  # None, "line", "block", '"', "'"
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if state is None:
            if c == "/" and nxt == "/":
                state = "line"
                out.append("  ")
                i += 2
                continue
            if c == "/" and nxt == "*":
                state = "block"
                out.append("  ")
                i += 2
                continue
            if c in "\"'":
                state = c
                out.append(c)
                i += 1
                continue
            out.append(c)
        elif state == "line":
            if c == "\n":
                state = None
                out.append(c)
            elif c == "\\" and nxt == "\n":
                out.append(" \n")
                i += 2
                continue
            else:
                out.append(" ")
        elif state == "block":
            if c == "*" and nxt == "/":
                state = None
                out.append("  ")
                i += 2
                continue
            out.append("\n" if c == "\n" else " ")
        else:  # inside a string or character literal
            if c == "\\" and nxt:
                out.append(" \n" if nxt == "\n" else "  ")
                i += 2
                continue
            if c == state or c == "\n":
                state = None
                out.append(c)
            else:
                out.append(" ")
        i += 1
    return "".join(out)


FOUND_RC = 10  # keep in step with FOUND_RC in the shell
found = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError as e:
        print(f"{path}:1: cannot read: {e}")
        found += 1
        continue
    code = blank_comments_and_strings(text)
    rules = [(re.compile(rx), msg) for prefixes, rx, msg in RULES if path.startswith(prefixes)]
    for lineno, line in enumerate(code.split("\n"), 1):
        for rx, msg in rules:
            if rx.search(line):
                print(f"{path}:{lineno}: {msg}")
                found += 1
sys.exit(FOUND_RC if found else 0)
PY
) || rc=$?
	if [[ -n "$out" ]]; then
		while IFS= read -r f; do
			problem "$f"
		done <<<"$out"
	fi
	if ((rc != 0 && rc != FOUND_RC)); then
		problem "scripts/lint.sh:1: the forbidden-token check did not run (python3 exited $rc)"
	fi
}

check_trailing_whitespace() {
	local texts=() f loc
	for f in "${FILES[@]}"; do
		case "$f" in
		*.pcap | *.pcapng | *.png | *.jpg | *.gz | *.patch | *.diff) continue ;;
		esac
		texts+=("$f")
	done
	((${#texts[@]} == 0)) && return 0
	# -I: binary files are skipped; -H: always FILE:LINE:TEXT. Status 1 is
	# "no match"; 2 (a file it could not read) fails the lint.
	local out rc=0
	out=$(grep -n -H -I -E '[[:space:]]+$' -- "${texts[@]}") || rc=$?
	if ((rc > 1)); then
		problem "scripts/lint.sh:1: the trailing-whitespace check did not run (grep exited $rc)"
	fi
	[[ -n "$out" ]] || return 0
	while IFS= read -r loc; do
		problem "$loc: trailing whitespace"
	done < <(sed -E 's/^(([^:]*):([0-9]+)):.*$/\1/' <<<"$out")
}

check_shellcheck() {
	local scripts=() f out
	if ! command -v shellcheck >/dev/null 2>&1; then
		echo "lint: shellcheck not installed, shell scripts not checked"
		return 0
	fi
	for f in "${FILES[@]}"; do
		is_shell_script "$f" && scripts+=("$f")
	done
	((${#scripts[@]} == 0)) && return 0
	local rc=0
	# status 1: warnings, listed; others (2-4) print their own reason
	out=$(shellcheck -x -P SCRIPTDIR -S warning -f gcc "${scripts[@]}" 2>&1) || rc=$?
	if [[ -n "$out" ]]; then
		while IFS= read -r f; do
			problem "$f"
		done <<<"$out"
	elif ((rc != 0)); then
		problem "scripts/lint.sh:1: shellcheck exited $rc and said nothing"
	fi
}

check_clang_format() {
	local c_files=() f
	if ! command -v clang-format >/dev/null 2>&1; then
		if [[ "${CI:-}" == true ]]; then
			problem "scripts/lint.sh:1: clang-format is not installed (scripts/install-deps.sh installs it)"
		else
			echo "lint: clang-format not installed, formatting not checked"
		fi
		return 0
	fi
	for f in "${FILES[@]}"; do
		[[ "$f" == *.[ch] ]] && c_files+=("$f")
	done
	for f in "${c_files[@]}"; do
		if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
			problem "$f:1: differs from .clang-format ('clang-format -i $f' formats it)"
		fi
	done
}

main() {
	mapfile -t FILES < <(list_files)
	check_spdx
	check_forbidden
	check_trailing_whitespace
	check_shellcheck
	check_clang_format
	if ((PROBLEMS > 0)); then
		echo "lint: $PROBLEMS problem(s)"
		return 1
	fi
	echo "lint: ok (${#FILES[@]} files)"
}

main "$@"
