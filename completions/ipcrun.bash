# bash completion for ipcrun(1).
#
# Everything offered comes from the binary itself, so a new subcommand or
# option needs no edit here:
#
#   ipcrun commands        one line per command: NAME, SUMMARY, its option
#                          tokens (--flag, --opt=, --opt=a|b, -x) and its
#                          OPERANDS, tab-separated; the first line is the
#                          global options under the name "ipcrun".
#   ipcrun commands NAME   one line per option of NAME: LONG, SHORT, ARG,
#                          VALUES and HELP, tab-separated, empty if absent.
#
# What an option's value gets is decided from ARG and VALUES: the VALUES
# when there are some, file names when ARG names a FILE (directories for a
# DIR), and nothing at all otherwise (numbers, sizes, durations, names,
# free strings). A command whose OPERANDS name a CMD (run, serve, child, recv-fd, spy)
# completes a command name there, then hands the rest of the line to that
# command's own completion, as sudo's does: through bash-completion's
# _command_offset when it is loaded, else command names and then file
# names. Needs bash 4.

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

# Complete the value $2 of an option whose ARG is $1 and VALUES $3.
_ipcrun_value()
{
	local argname=$1 cur=$2 vals=$3

	if [[ -n $vals ]]; then
		_ipcrun_offer "$cur" "${vals//|/$'\n'}"
		# "key=" wants its part after the '='.
		if ((${#COMPREPLY[@]} == 1)) &&
		    [[ ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
	elif [[ $argname == *FILE* ]]; then
		# File names, through complete -o default.
		return 0
	elif [[ $argname == *DIR* ]]; then
		compopt -o dirnames 2>/dev/null
		return 0
	fi
	# A number, a size, a duration, a name, a free string: no file
	# names, whatever bash would fall back to.
	compopt +o default +o bashdefault 2>/dev/null
}

# Complete an ADDR operand: the schemes, then after "unix:" (or bare)
# directories and socket files. $1 is the word as typed, colons and all:
# bash splits it at ':' (COMP_WORDBREAKS), so what is offered is what
# follows the word's last ':', as bash-completion's __ltrim_colon does.
_ipcrun_addr()
{
	local cur=$1 path pre= f

	case $cur in
	unix:*)
		pre=unix:
		path=${cur#unix:}
		;;
	tcp:* | fd:*)
		compopt +o default +o bashdefault 2>/dev/null
		return 0
		;;
	*)
		_ipcrun_offer "$cur" $'unix:\ntcp:\nfd:'
		path=$cur
		;;
	esac
	# An abstract name has no file to complete.
	if [[ $path != @* ]]; then
		while IFS= read -r f; do
			if [[ -d $f ]]; then
				COMPREPLY+=("$pre$f/")
			elif [[ -S $f ]]; then
				COMPREPLY+=("$pre$f")
			fi
		done < <(compgen -f -- "$path")
	fi
	if [[ $COMP_WORDBREAKS == *:* && $cur == *:* ]]; then
		COMPREPLY=("${COMPREPLY[@]#"${cur%"${cur##*:}"}"}")
	fi
	compopt -o nospace +o default +o bashdefault 2>/dev/null
	for f in "${COMPREPLY[@]}"; do
		# A finished name gets its space.
		[[ $f == */ || $f == *: ]] || ((${#COMPREPLY[@]} > 1)) ||
		    compopt +o nospace 2>/dev/null
	done
	return 0
}

_ipcrun()
{
	local bin table detail line name summary opts operands
	local long short argname vals help
	local globalopts= names= cmdopts= cmdoperands= cur prefix=
	local -a words=() raw=()
	local -A arg=() values=()
	local cword=0 i w n count joined=0 cmd= cmdidx=0 valuefor=
	local ddash=0 hascmd=0 needdd=0 npre=0 npos=0 cmdat=0 atcmd=0
	local colon=0 curop=-1
	local -a opwords=()

	COMPREPLY=()
	bin=$(_ipcrun_bin "${COMP_WORDS[0]}")
	table=$(command "$bin" commands 2>/dev/null) || return 0
	# Tabs become US so that read keeps empty fields apart.
	while IFS= read -r line; do
		IFS=$'\x1f' read -r name summary opts operands \
		    <<<"${line//$'\t'/$'\x1f'}"
		if [[ $name == ipcrun ]]; then
			globalopts=$opts
		elif [[ -n $name ]]; then
			names+=$name$'\n'
		fi
	done <<<"$table"

	# Join "--opt" "=" "val", which bash splits at '=' (COMP_WORDBREAKS),
	# back into one word; raw[] keeps where each began in COMP_WORDS.
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
		# And an address "unix" ":" "/x", "tcp" ":" "h" ":" "1",
		# split at ':' too.
		elif [[ $w == ":" && ${#words[@]} -gt 0 &&
		    ${words[-1]} =~ ^(unix|tcp|fd)(:.*)?$ ]]; then
			words[-1]+=:
			colon=1
			joined=0
		elif ((colon)) && [[ ${words[-1]} == *: ]]; then
			words[-1]+=$w
			colon=0
		else
			words+=("$w")
			raw+=("$i")
			joined=0
			colon=0
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

	# The command's operands and options: which take a value, and what.
	while IFS= read -r line; do
		IFS=$'\x1f' read -r name summary opts operands \
		    <<<"${line//$'\t'/$'\x1f'}"
		[[ $name == "$cmd" ]] && break
	done <<<"$table"
	detail=$(command "$bin" commands "$cmd" 2>/dev/null) || return 0
	while IFS= read -r line; do
		IFS=$'\x1f' read -r long short argname vals help \
		    <<<"${line//$'\t'/$'\x1f'}"
		for n in $long $short; do
			cmdopts+=$n$'\n'
			if [[ -n $argname ]]; then
				arg[$n]=$argname
				values[$n]=$vals
			fi
		done
	done <<<"$detail"

	# Where CMD comes, if the command runs one: after npre other operands,
	# and after "--" if OPERANDS show it bare ("ADDR [-- CMD ...]") rather
	# than optional ("[--] [CMD ...]").
	if [[ " ${operands//[][]/ } " == *" CMD "* ]]; then
		hascmd=1
		[[ $operands == *"-- CMD"* && $operands != *"[--]"* ]] &&
		    needdd=1
		for w in ${operands//[][]/ }; do
			[[ $w == CMD ]] && break
			[[ $w == -- ]] || npre=$((npre + 1))
		done
	fi

	# Where are we: after "--", on the value of an option, on CMD or
	# past it?
	for ((i = cmdidx + 1; i <= cword; i++)); do
		w=${words[i]}
		if [[ -n $valuefor ]]; then
			((i == cword)) && break
			valuefor=
			continue
		fi
		if ((!ddash)) && [[ $w == -- ]] && ((i < cword)); then
			ddash=1
			continue
		fi
		# A lone "-" is an operand (stdin), unless it is the start of
		# an option being typed.
		if ((!ddash)) && { [[ $w == -?* ]] ||
		    { [[ $w == - ]] && ((i == cword)); }; }; then
			if [[ $w != *=* && -n ${arg[$w]-} ]]; then
				valuefor=$w
			fi
			continue
		fi
		if ((hascmd && npos == npre)) && ((ddash || !needdd)); then
			if ((i == cword)); then
				atcmd=1
			else
				cmdat=$i
			fi
			break
		fi
		((i == cword)) && curop=$npos
		npos=$((npos + 1))
	done

	if ((cmdat)); then
		# Past CMD: the rest of the line is CMD's to complete.
		if declare -F _command_offset >/dev/null; then
			_command_offset "${raw[cmdat]}"
		fi
		# Without bash-completion: file names (complete -o default).
		return 0
	fi
	if ((atcmd)); then
		if declare -F _command_offset >/dev/null; then
			_command_offset "${raw[cword]}"
		else
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		fi
		return 0
	fi

	if [[ -n $valuefor && $cur != "$valuefor" ]]; then
		_ipcrun_value "${arg[$valuefor]}" "$cur" "${values[$valuefor]}"
		return 0
	fi
	if ((ddash == 0)) && [[ $cur == --*=* && -n ${arg[${cur%%=*}]-} ]]
	then
		valuefor=${cur%%=*}
		cur=${cur#*=}
		# Without '=' in COMP_WORDBREAKS the word replaced is the whole
		# --opt=value.
		[[ $COMP_WORDBREAKS == *=* ]] || prefix=$valuefor=
		_ipcrun_value "${arg[$valuefor]}" "$cur" "${values[$valuefor]}"
		if [[ -n $prefix ]]; then
			COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
		fi
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
	# ctl's TARGET: the names of the running runs; then the protocol's
	# commands (ipcrun(7)); then the children of that run.
	if [[ $operands == *TARGET* ]]; then
		compopt +o default +o bashdefault 2>/dev/null
		case $npos in
		1) _ipcrun_offer "$cur" \
		    "$(command "$bin" "$cmd" --names 2>/dev/null)" ;;
		2) _ipcrun_offer "$cur" "$(printf '%s\n' ps send signal \
		    restart stop start scale tap events stats info)" ;;
		*) _ipcrun_offer "$cur" "$(command "$bin" "$cmd" --names \
		    "${words[cword - npos + 1]}" 2>/dev/null; echo all)" ;;
		esac
		return 0
	fi
	# An ADDR operand: its schemes and socket files.
	for w in ${operands//[][]/ }; do
		[[ $w == -- ]] || opwords+=("$w")
	done
	if ((curop >= 0 && curop < ${#opwords[@]})) &&
	    [[ ${opwords[curop]} == ADDR ]]; then
		_ipcrun_addr "$cur"
		return 0
	fi
	# Other operands (FILE ...): file names, through complete -o default.
	return 0
}

complete -o bashdefault -o default -F _ipcrun ipcrun
