# SPDX-License-Identifier: BSD-3-Clause
# bash completion for egressctl (installed as completions/egressctl)
_egressctl()
{
	local cur prev verb i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s|--socket) ((i++)) ;;
		-*) ;;
		*) verb=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	-s|--socket)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	esac
	if [[ -z $verb ]]; then
		mapfile -t COMPREPLY < <(compgen -W "-s --socket -j --json -h --help stats rules flows nat reload explain takeover drain" -- "$cur")
		return
	fi
	case $verb in
	flows)
		case $prev in
		--src|--dst|--port|--rule|--limit) return ;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "--src --dst --port --rule --limit" -- "$cur") ;;
	drain)
		case $prev in
		--deadline) return ;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "--deadline" -- "$cur") ;;
	explain)
		# SRC DST DPORT [tcp|udp]: the protocol is the fourth word after the verb
		local n=0
		for ((i = i + 1; i < COMP_CWORD; i++)); do ((n++)); done
		if ((n == 3)); then
			mapfile -t COMPREPLY < <(compgen -W "tcp udp" -- "$cur")
		fi ;;
	esac
}
complete -F _egressctl egressctl
