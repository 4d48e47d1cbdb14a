# bash completion for volrep: commands, their options, job ids and node
# names. Installed by `make install` into
# $(PREFIX)/share/bash-completion/completions/volrep.
#
# Commands and options come from `volrep help` itself (so they never go
# stale); job ids from `volrep list`, node names from nodes.cfg of the
# config dir (--config-dir on the line, else VOLREP_CONFIG_DIR, else
# /etc/volrep).

_volrep_config_dir()
{
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
		case ${COMP_WORDS[i]} in
		--config-dir=*) echo "${COMP_WORDS[i]#--config-dir=}"; return ;;
		--config-dir) echo "${COMP_WORDS[i + 1]}"; return ;;
		esac
	done
	echo "${VOLREP_CONFIG_DIR:-/etc/volrep}"
}

_volrep_nodes()
{
	local f
	f="$(_volrep_config_dir)/nodes.cfg"
	[ -r "$f" ] && sed -n 's/^node:[[:space:]]*\([A-Za-z0-9.-]*\)[[:space:]]*$/\1/p' "$f"
}

_volrep_jobs()
{
	"$1" --config-dir "$(_volrep_config_dir)" list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_volrep()
{
	local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= i nargs=0
	local globals="--config-dir --state-dir --log-dir --node"

	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	# the command is the first word that is neither a global option nor
	# its value (they go before it); count the positional words after it
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--config-dir | --state-dir | --log-dir | --node) ((i++)) ;;
		--config-dir=* | --state-dir=* | --log-dir=* | --node=*) ;;
		-*) ;;
		*)
			if [ -z "$cmd" ]; then
				cmd=${COMP_WORDS[i]}
			else
				case ${COMP_WORDS[i - 1]}:${COMP_WORDS[i]} in
				--disable:[01] | --online:[01] | --verbose:[01] | --force:[01] | --keep:[01] | --raw:[01]) continue ;;
				--*) case " $(_volrep_value_opts) " in *" ${COMP_WORDS[i - 1]} "*) continue ;; esac ;;
				esac
				((nargs++))
			fi
			;;
		esac
	done

	case $prev in
	--config-dir | --state-dir | --log-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--node | --to | --source)
		COMPREPLY=($(compgen -W "$(_volrep_nodes)" -- "$cur"))
		return
		;;
	--id)
		COMPREPLY=($(compgen -W "$(_volrep_jobs "$prog")" -- "$cur"))
		return
		;;
	--output-format)
		COMPREPLY=($(compgen -W "text json json-pretty" -- "$cur"))
		return
		;;
	--disable | --online)
		COMPREPLY=($(compgen -W "0 1" -- "$cur"))
		return
		;;
	--remove_job)
		COMPREPLY=($(compgen -W "local full" -- "$cur"))
		return
		;;
	--state)
		COMPREPLY=($(compgen -W "started stopped ignored" -- "$cur"))
		return
		;;
	--compress)
		COMPREPLY=($(compgen -W "none zstd lz4" -- "$cur"))
		return
		;;
	--delete)
		COMPREPLY=($(compgen -W "schedule rate comment disable source remove_job compress keep raw" -- "$cur"))
		return
		;;
	--schedule | --rate | --comment | --digest | --from | --iterations | --guest | --fingerprint)
		return
		;;
	esac

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$globals --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$("$prog" help 2>/dev/null | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')" -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		local opts
		opts=$("$prog" help "$cmd" 2>/dev/null | sed -n '1s/^usage: volrep [a-z-]* //p' | grep -o -- '--[a-z_-]*' | sort -u)
		COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
		return
	fi
	case $cmd in
	help)
		((nargs == 0)) && COMPREPLY=($(compgen -W "$("$prog" help 2>/dev/null | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')" -- "$cur"))
		;;
	update | delete | enable | disable | read | log | schedule-now)
		((nargs == 0)) && COMPREPLY=($(compgen -W "$(_volrep_jobs "$prog")" -- "$cur"))
		;;
	create-local-job)
		((nargs == 1)) && COMPREPLY=($(compgen -W "$(_volrep_nodes)" -- "$cur"))
		;;
	migrate)
		((nargs == 1)) && COMPREPLY=($(compgen -W "$(_volrep_nodes)" -- "$cur"))
		;;
	remote-exec)
		((nargs == 0)) && COMPREPLY=($(compgen -W "$(_volrep_nodes)" -- "$cur"))
		;;
	ssh-setup)
		((nargs == 0)) && COMPREPLY=($(compgen -W "$(_volrep_nodes)" -- "$cur"))
		;;
	check)
		COMPREPLY=($(compgen -W "$(_volrep_nodes)" -- "$cur"))
		;;
	ha)
		((nargs == 0)) && COMPREPLY=($(compgen -W "add set remove group list status" -- "$cur"))
		;;
	esac
}

# options whose next word is their value (not a positional argument)
_volrep_value_opts()
{
	echo "--schedule --rate --comment --source --remove_job --compress --snapshot --delete --digest --id --guest" \
		"--output-format --from --iterations --to --address --fingerprint --state --group --max-relocate --nodes"
}

complete -F _volrep volrep
