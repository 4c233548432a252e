# fish completion for ipcrun(1).
#
# Everything offered comes from the binary itself, so a new subcommand or
# option needs no edit here:
#
#   ipcrun commands        one line per command: NAME, SUMMARY, its option
#                          tokens and its OPERANDS, tab-separated; the first
#                          line is the global options under the name
#                          "ipcrun".
#   ipcrun commands NAME   one line per option of NAME: LONG, SHORT, ARG,
#                          VALUES and HELP, tab-separated, empty if absent.
#
# Each option is shown with its HELP; a long and a short name for one
# option (-h and --help among them) share it and so are listed together.
# An option's value gets its VALUES when there are some, file names when
# ARG names a FILE (directories for a DIR), and nothing otherwise
# (numbers, sizes, durations, names, free strings). A command whose
# OPERANDS name a CMD (run, serve, child, recv-fd, spy) completes a command name
# there, then hands the rest of the line to that command's completion
# (__fish_complete_subcommand), as sudo's does.

# Print the options of `ipcrun commands NAME` ($argv) with their help.
function __ipcrun_print_options
    for line in $argv
        set -l f (string split \t -- $line)
        for n in $f[1] $f[2]
            test -n "$n"; and printf '%s\t%s\n' $n $f[5]
        end
    end
end

# Complete the value $argv[4] of an option whose ARG is $argv[1] and
# VALUES $argv[2], each candidate behind the prefix $argv[3] ("--opt=").
function __ipcrun_value
    set -l argname $argv[1]
    set -l vals $argv[2]
    set -l prefix $argv[3]
    set -l cur $argv[4]
    if test -n "$vals"
        printf "$prefix%s\t$argname\n" (string split '|' -- $vals)
    else if string match -q -- '*FILE*' $argname
        __fish_complete_path "$cur" | string replace -r -- '^' "$prefix"
    else if string match -q -- '*DIR*' $argname
        __fish_complete_directories "$cur" |
            string replace -r -- '^' "$prefix"
    end
    # Otherwise a number, a size, a duration, a name, a free string:
    # nothing to offer, and no file names.
end

# Complete an ADDR operand that starts with $argv[1].
function __ipcrun_addr
    set -l cur $argv[1]
    set -l pre
    if string match -q -- 'unix:*' $cur
        set pre unix:
        set cur (string sub -s 6 -- $cur)
    else if string match -qr -- '^(tcp|fd):' $cur
        return
    else
        for s in unix: tcp: fd:
            string match -q -- "$cur*" $s; and printf '%s\n' $s
        end
    end
    string match -q -- '@*' $cur; and return
    for p in (__fish_complete_path "$cur" | string split -f1 \t)
        if test -d "$p"
            printf '%s%s\n' $pre (string replace -r -- '/*$' / $p)
        else if test -S "$p"
            printf '%s%s\n' $pre $p
        end
    end
end

function __ipcrun_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)

    # The binary being completed when given as a path, else ipcrun.
    set -l bin ipcrun
    set -l first (string replace -r -- '^~/' "$HOME/" $tokens[1])
    if string match -q -- '*/*' $first; and test -x $first
        set bin $first
    end
    command -q $bin; or return
    set -l table (command $bin commands 2>/dev/null)
    or return

    set -l names
    set -l summaries
    set -l operandlists
    for line in $table
        set -l f (string split \t -- $line)
        test -n "$f[1]"; or continue
        test "$f[1]" = ipcrun; and continue
        set -a names $f[1]
        set -a summaries "$f[2]"
        set -a operandlists "$f[4]"
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
            __ipcrun_print_options (command $bin commands ipcrun 2>/dev/null)
        else
            for n in (seq (count $names))
                printf '%s\t%s\n' $names[$n] $summaries[$n]
            end
        end
        return
    end

    # The command's options: which take a value, and what it gets.
    set -l detail (command $bin commands $cmd 2>/dev/null)
    set -l optnames
    set -l optargs
    set -l optvals
    for line in $detail
        set -l f (string split \t -- $line)
        for n in $f[1] $f[2]
            test -n "$n"; or continue
            set -a optnames $n
            set -a optargs "$f[3]"
            set -a optvals "$f[4]"
        end
    end

    # Where CMD comes, if the command runs one: after npre other operands,
    # and after "--" if OPERANDS show it bare ("ADDR [-- CMD ...]") rather
    # than optional ("[--] [CMD ...]").
    set -l operands $operandlists[$idx]
    set -l hascmd 0
    set -l needdd 0
    set -l npre 0
    set -l opwords (string split ' ' -- (string replace -ra -- '[][]' ' ' $operands))
    if contains -- CMD $opwords
        set hascmd 1
        if string match -q -- '*-- CMD*' $operands
            and not string match -q -- '*[--]*' $operands
            set needdd 1
        end
        for w in $opwords
            test "$w" = CMD; and break
            contains -- "$w" '' --; or set npre (math $npre + 1)
        end
    end

    # Where are we: after "--", on the value of an option, on CMD or past
    # it?
    set -l words $tokens $cur
    set -l ncur (count $words)
    set -l valuefor 0
    set -l ddash 0
    set -l npos 0
    set -l cmdat 0
    set -l atcmd 0
    set i (math $cmdpos + 1)
    while test $i -le $ncur
        set -l w $words[$i]
        if test $valuefor -ne 0
            test $i -eq $ncur; and break
            set valuefor 0
        else if test $ddash -eq 0 -a $i -lt $ncur
            and test "x$w" = x--
            set ddash 1
        else if test $ddash -eq 0; and string match -q -- '-?*' $w
            if not string match -q -- '*=*' $w
                and set -l n (contains -i -- $w $optnames)
                and test -n "$optargs[$n]"
                set valuefor $n
            end
        else if test $ddash -eq 0 -a $i -eq $ncur
            and test "x$w" = x-
            # The start of an option being typed; a lone "-" earlier is
            # an operand (stdin).
        else
            if test $hascmd -eq 1 -a $npos -eq $npre
                and test $ddash -eq 1 -o $needdd -eq 0
                if test $i -eq $ncur
                    set atcmd 1
                else
                    set cmdat $i
                end
                break
            end
            set npos (math $npos + 1)
        end
        set i (math $i + 1)
    end

    if test $cmdat -ne 0
        # Past CMD: the rest of the line is CMD's to complete.
        __fish_complete_subcommand --commandline $words[$cmdat..-1]
        return
    end
    if test $atcmd -eq 1
        complete -C "$cur"
        return
    end

    if test $valuefor -ne 0 -a $i -le $ncur
        and test "x$optnames[$valuefor]" != "x$cur"
        __ipcrun_value "$optargs[$valuefor]" "$optvals[$valuefor]" "" "$cur"
        return
    end
    if test $ddash -eq 0; and string match -q -- '--*=*' $cur
        set -l kv (string split -m 1 = -- $cur)
        if set -l n (contains -i -- $kv[1] $optnames)
            and test -n "$optargs[$n]"
            __ipcrun_value "$optargs[$n]" "$optvals[$n]" "$kv[1]=" "$kv[2]"
        end
        return
    end
    if test $ddash -eq 0; and string match -q -- '-*' $cur
        __ipcrun_print_options $detail
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
    # ctl's TARGET: the names of the running runs; then the protocol's
    # commands (ipcrun(7)); then the children of that run.
    if string match -q -- '*TARGET*' $operands
        set -l ops
        for j in (seq (math $cmdpos + 1) (count $tokens))
            string match -q -- '-*' $tokens[$j]; or set -a ops $tokens[$j]
        end
        switch (count $ops)
            case 0
                command $bin $cmd --names 2>/dev/null
            case 1
                printf '%s\n' ps send signal restart stop start scale tap events stats info
            case '*'
                command $bin $cmd --names $ops[1] 2>/dev/null
                echo all
        end
        return
    end
    # An ADDR operand: its schemes, and directories and socket files,
    # bare or after "unix:"; nothing after "tcp:" or "fd:".
    set -l opnames
    for w in $opwords
        contains -- "$w" '' --; or set -a opnames $w
    end
    if test $npos -ge 1; and test "$opnames[$npos]" = ADDR
        __ipcrun_addr "$cur"
        return
    end
    # Other operands (FILE ...): file names.
    __fish_complete_path "$cur"
end

complete -c ipcrun -f -a '(__ipcrun_complete)'
