# bash completion for ipcrun(1).
#
# Everything offered comes from the binary itself: `ipcrun commands` prints
# one line per command, NAME<TAB>SUMMARY<TAB>OPTIONS, the first line being
# the global options under the name "ipcrun". OPTIONS are space-separated
# tokens: --flag, --opt= (takes a value), --opt=a|b|c (one of), -x. So a new
# subcommand or option needs no edit here. Needs bash 4; does not need the
# bash-completion package.

# The binary to ask: the one being completed when it is given as a path
# (./ipcrun), otherwise ipcrun from PATH.
_ipcrun_bin()
{
	local bin=$1

	if [[ $bin == "~/"* ]]; then
		bin=$HOME/${bin#"~/"}
	fi
	if [[ $bin == */* && -x $bin ]]; then
		printf '%s\n' "$bin"
	else
		printf 'ipcrun\n'
	fi
}

# Offer the words of $2 (newline-separated) that start with $1.
_ipcrun_offer()
{
	local w

	while IFS= read -r w; do
		if [[ -n $w && $w == "$1"* ]]; then
			COMPREPLY+=("$w")
		fi
	done <<<"$2"
}

_ipcrun()
{
	local bin table name summary opts globalopts= names= cmdopts=
	local -a words=()
	local -A takes=() values=()
	local cword=0 i w n count joined=0 cmd= cmdidx=0 cur tok prefix= optname
	local ddash=0 valuefor=

	COMPREPLY=()
	bin=$(_ipcrun_bin "${COMP_WORDS[0]}")
	table=$(command "$bin" commands 2>/dev/null) || return 0
	while IFS=$'\t' read -r name summary opts; do
		if [[ $name == ipcrun ]]; then
			globalopts=$opts
		elif [[ -n $name ]]; then
			names+=$name$'\n'
		fi
	done <<<"$table"

	# Join "--opt" "=" "val", which bash splits at '=' (COMP_WORDBREAKS),
	# back into one word.
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == "=" && ${#words[@]} -gt 0 &&
		    ${words[-1]} == --* && ${words[-1]} != *=* ]]; then
			words[-1]+==
			joined=1
		elif ((joined)) && [[ ${words[-1]} == *= ]] &&
		    ((i > 0)) && [[ ${COMP_WORDS[i - 1]} == "=" ]]; then
			words[-1]+=$w
			joined=0
		else
			words+=("$w")
			joined=0
		fi
		if ((i == COMP_CWORD)); then
			cword=$((${#words[@]} - 1))
		fi
	done
	cur=${words[cword]}

	# Find the command: the first word after the global options. A unique
	# prefix of a name counts, as for the binary.
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		[[ $w == -* ]] && continue
		cmdidx=$i
		count=0
		while IFS= read -r n; do
			if [[ $n == "$w" ]]; then
				cmd=$n
				count=1
				break
			elif [[ -n $n && $n == "$w"* ]]; then
				cmd=$n
				count=$((count + 1))
			fi
		done <<<"$names"
		# Unknown or ambiguous: the binary would refuse it.
		if ((count != 1)); then
			return 0
		fi
		break
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_ipcrun_offer "$cur" "${globalopts// /$'\n'}"
		else
			_ipcrun_offer "$cur" "$names"
		fi
		return 0
	fi

	# The command's options: which take a value, and which values.
	while IFS=$'\t' read -r name summary opts; do
		[[ $name == "$cmd" ]] && break
	done <<<"$table"
	for tok in $opts; do
		if [[ $tok == *=* ]]; then
			optname=${tok%%=*}
			takes[$optname]=1
			values[$optname]=${tok#*=}
			cmdopts+=$optname$'\n'
		else
			cmdopts+=$tok$'\n'
		fi
	done

	# Where are we: after "--", or on the value of an option?
	for ((i = cmdidx + 1; i < cword; i++)); do
		w=${words[i]}
		if [[ -n $valuefor ]]; then
			valuefor=
			continue
		fi
		if [[ $w == -- ]]; then
			ddash=1
			break
		fi
		if [[ $w == -* && $w != *=* && -n ${takes[$w]-} ]]; then
			valuefor=$w
		fi
	done

	if [[ -n $valuefor || ($ddash == 0 && $cur == --*=* &&
	    -n ${takes[${cur%%=*}]-}) ]]; then
		if [[ -z $valuefor ]]; then
			valuefor=${cur%%=*}
			cur=${cur#*=}
			# Without '=' in COMP_WORDBREAKS the word replaced is the
			# whole --opt=value.
			[[ $COMP_WORDBREAKS == *=* ]] || prefix=$valuefor=
		fi
		if [[ -n ${values[$valuefor]} ]]; then
			_ipcrun_offer "$cur" "${values[$valuefor]//|/$'\n'}"
			if [[ -n $prefix ]]; then
				COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
			fi
		fi
		# A free value: nothing to offer, so bash falls back to file
		# names (complete -o default).
		return 0
	fi
	if ((ddash == 0)) && [[ $cur == -* ]]; then
		_ipcrun_offer "$cur" "$cmdopts"
		return 0
	fi
	if [[ $cmd == help ]] && ((cword == cmdidx + 1)); then
		_ipcrun_offer "$cur" "$names"
		return 0
	fi
	# Operands (FILE ...): file names, through complete -o default.
	return 0
}

complete -o bashdefault -o default -F _ipcrun ipcrun
