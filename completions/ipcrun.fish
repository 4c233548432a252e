# fish completion for ipcrun(1).
#
# Everything offered comes from the binary itself: `ipcrun commands` prints
# one line per command, NAME<TAB>SUMMARY<TAB>OPTIONS, the first line being
# the global options under the name "ipcrun". OPTIONS are space-separated
# tokens: --flag, --opt= (takes a value), --opt=a|b|c (one of), -x. So a new
# subcommand or option needs no edit here.

function __ipcrun_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)

    # The binary being completed when given as a path, else ipcrun.
    set -l bin ipcrun
    set -l first (string replace -r -- '^~/' "$HOME/" $tokens[1])
    if string match -q -- '*/*' $first; and test -x $first
        set bin $first
    end
    set -l table (command $bin commands 2>/dev/null)
    or return

    set -l names
    set -l summaries
    set -l optlists
    set -l globalopts
    for line in $table
        set -l f (string split -m 2 \t -- $line)
        test -n "$f[1]"; or continue
        if test "$f[1]" = ipcrun
            set globalopts (string split ' ' -- "$f[3]")
        else
            set -a names $f[1]
            set -a summaries "$f[2]"
            set -a optlists "$f[3]"
        end
    end

    # Find the command: the first word after the global options. A unique
    # prefix of a name counts, as for the binary.
    set -l cmd
    set -l cmdpos 0
    set -l idx 0
    set -l i 2
    while test $i -le (count $tokens)
        set -l w $tokens[$i]
        if not string match -q -- '-*' $w
            if set -l n (contains -i -- $w $names)
                set idx $n
            else
                for n in (seq (count $names))
                    if string match -q -- "$w*" $names[$n]
                        test $idx -eq 0; or return
                        set idx $n
                    end
                end
                test $idx -ne 0; or return
            end
            set cmd $names[$idx]
            set cmdpos $i
            break
        end
        set i (math $i + 1)
    end

    if test -z "$cmd"
        if string match -q -- '-*' $cur
            printf '%s\tglobal option\n' $globalopts
        else
            for n in (seq (count $names))
                printf '%s\t%s\n' $names[$n] $summaries[$n]
            end
        end
        return
    end

    # The command's options: which take a value, and which values.
    set -l flags
    set -l valopts
    set -l valsets
    for tok in (string split ' ' -- $optlists[$idx])
        test -n "$tok"; or continue
        if string match -q -- '*=*' $tok
            set -l kv (string split -m 1 = -- $tok)
            set -a valopts $kv[1]
            set -a valsets "$kv[2]"
        else
            set -a flags $tok
        end
    end

    # Where are we: after "--", or on the value of an option?
    set -l valuefor 0
    set -l ddash 0
    set i (math $i + 1)
    while test $i -le (count $tokens)
        set -l w $tokens[$i]
        if test $valuefor -ne 0
            set valuefor 0
        else if test "$w" = --
            set ddash 1
            break
        else if set -l n (contains -i -- $w $valopts)
            set valuefor $n
        end
        set i (math $i + 1)
    end

    set -l prefix
    if test $valuefor -eq 0 -a $ddash -eq 0
        and string match -q -- '--*=*' $cur
        set -l kv (string split -m 1 = -- $cur)
        if set -l n (contains -i -- $kv[1] $valopts)
            set valuefor $n
            set prefix "$kv[1]="
            set cur $kv[2]
        end
    end
    if test $valuefor -ne 0
        if test -n "$valsets[$valuefor]"
            printf "$prefix%s\n" (string split '|' -- $valsets[$valuefor])
        else
            # A free value: file names are the likeliest help.
            __fish_complete_path "$cur" | string replace -r -- '^' "$prefix"
        end
        return
    end
    if test $ddash -eq 0; and string match -q -- '-*' $cur
        printf '%s\n' $flags
        printf '%s\ttakes a value\n' $valopts
        return
    end
    if test "$cmd" = help
        # One operand: a command name.
        if test (count $tokens) -eq $cmdpos
            for n in (seq (count $names))
                printf '%s\t%s\n' $names[$n] $summaries[$n]
            end
        end
        return
    end
    # Operands (FILE ...).
    __fish_complete_path "$cur"
end

complete -c ipcrun -f -a '(__ipcrun_complete)'
