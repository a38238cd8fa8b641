# bash completion for drydock: commands, subcommands, options (read from
# each command's --help, so they follow the installed binary), job files,
# package names from the mirror, and run folders.
# Installed as share/bash-completion/completions/drydock by 'make install'.

_drydock_words() {
	# the options a command's --help names, one per line
	"$1" "${@:2}" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

_drydock_mirror_arg() {
	# the --mirror given on the command line, if any
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		--mirror | -m) echo "${COMP_WORDS[i + 1]}"; return ;;
		--mirror=*) echo "${COMP_WORDS[i]#--mirror=}"; return ;;
		esac
	done
}

_drydock_packages() {
	local m
	m=$(_drydock_mirror_arg)
	"$1" mirror list ${m:+--mirror "$m"} 2>/dev/null |
		sed -E 's/^([^ ]+)-[0-9][^- ]*-r[0-9]+ .*/\1/' | sort -u
}

_drydock() {
	local cur prev cmd sub dd=${COMP_WORDS[0]}
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	cmd=${COMP_WORDS[1]}
	sub=${COMP_WORDS[2]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$("$dd" --help 2>/dev/null | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')" -- "$cur"))
		return
	fi
	case $cmd in
	help) [ "$COMP_CWORD" -eq 2 ] && { COMPREPLY=($(compgen -W "$("$dd" --help 2>/dev/null | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')" -- "$cur")); return; } ;;
	trust) [ "$COMP_CWORD" -eq 2 ] && { COMPREPLY=($(compgen -W "add list remove" -- "$cur")); return; } ;;
	bundle) [ "$COMP_CWORD" -eq 2 ] && { COMPREPLY=($(compgen -W "create inspect verify" -- "$cur")); return; } ;;
	mirror) [ "$COMP_CWORD" -eq 2 ] && { COMPREPLY=($(compgen -W "init import list show owner bundles entitlements audit receipt fsck gc" -- "$cur")); return; } ;;
	pkg) [ "$COMP_CWORD" -eq 2 ] && { COMPREPLY=($(compgen -W "inspect verify build index version resolve" -- "$cur")); return; } ;;
	config) [ "$COMP_CWORD" -eq 2 ] && { COMPREPLY=($(compgen -W "show" -- "$cur")); return; } ;;
	*) sub= ;;
	esac
	case $prev in
	--mirror | -m | --out | -o | --gnupg-home)
		COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--sign | -s | --key | -k | --info | --config)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_drydock_words "$dd" "$cmd" $sub)" -- "$cur"))
		return
	fi
	case $cmd in
	plan | build)
		COMPREPLY=($(compgen -f -X '!*.y?(a)ml' -- "$cur") $(compgen -d -- "$cur")) ;;
	batch | verify | report | rebuild | diff)
		COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.oci.tar' -- "$cur")) ;;
	advisories)
		COMPREPLY=($(compgen -W "$(_drydock_packages "$dd")" -- "$cur") $(compgen -d -- "$cur")) ;;
	mirror)
		case $sub in
		show) COMPREPLY=($(compgen -W "$(_drydock_packages "$dd")" -- "$cur")) ;;
		import) COMPREPLY=($(compgen -f -- "$cur")) ;;
		*) COMPREPLY=($(compgen -d -- "$cur")) ;;
		esac ;;
	*) COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
}
complete -o filenames -o bashdefault -F _drydock drydock
