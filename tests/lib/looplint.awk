# Static half of the chain lint (tests/lib/test-lib.sh): in a test body,
# every step of a loop must stop the body when it fails, that is end with
# `|| return 1` (or `|| exit N`, `|| VAR=...`, `|| { ...; return 1; }`):
# inside a loop that is part of an && chain `set -e` has no effect, and
# the loop's status is only that of its last iteration. Prints
# "LINE: TEXT" for each step that does not; the body is read from stdin.
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function stops(s,    k, i, parts) {
	# a step that cannot let a failure through unnoticed
	if (s ~ /\|\|[ \t]*(return|exit)([ \t]+[0-9]+)?$/) return 1
	# a failure deliberately ignored
	if (s ~ /\|\|[ \t]*(:|true)$/) return 1
	if (s ~ /\|\|[ \t]*[A-Za-z_][A-Za-z_0-9]*=/) return 1
	if (s ~ /(return|exit)[ \t]+[0-9]+;?[ \t]*\}$/) return 1
	# assignments that cannot fail (no command substitution), also a
	# few joined by &&
	if (s ~ /^[A-Za-z_][A-Za-z_0-9]*=/ && s !~ /\$\([^(]|`/ && s !~ /\|\|/) {
		k = split(s, parts, /[ \t]*&&[ \t]*/)
		for (i = 1; i <= k; i++)
			if (parts[i] !~ /^[A-Za-z_][A-Za-z_0-9]*=/)
				break
		if (i > k) return 1
	}
	# a branch that ends the body: "...; return 1"
	if (s ~ /;[ \t]*(return|exit)([ \t]+[0-9]+)?$/) return 1
	# started in the background: its status is collected later (wait)
	if (s ~ /[^&]&$/) return 1
	if (s ~ /^(continue|break|:|true)$/ || s ~ /^(return|exit)([ \t]+[0-9]+)?$/) return 1
	if (s ~ /(^|[ \t;])(fi|esac)$/) return 1
	return 0
}
function check_oneline(s, n,    body, parts, k, i, p) {
	body = s
	sub(/^.*(^|[ \t;])do[ \t]+/, "", body)
	sub(/(^|;)[ \t]*done([ \t;|&<>].*)?$/, "", body)
	k = split(body, parts, /;[ \t]*/)
	for (i = 1; i <= k; i++) {
		p = trim(parts[i])
		if (p == "" || p ~ /(&&|\|\||\|)$/) continue
		if (!stops(p)) { print n ": " trim(s); return }
	}
}
BEGIN { depth = 0; heredoc = "" }
{
	line = $0
	if (heredoc != "") {
		if (trim(line) == heredoc) heredoc = ""
		next
	}
	if (match(line, /<<-?[ \t]*\\?["']?[A-Za-z_]+/)) {
		w = substr(line, RSTART, RLENGTH)
		sub(/^<<-?[ \t]*\\?["']?/, "", w)
		heredoc = w
	}
	s = trim(line)
	if (s == "" || s ~ /^#/) next
	if (s ~ /(^|[ \t;])do[ \t]+.*(^|[ \t;])done([ \t;|&].*)?$/) {
		check_oneline(s, NR)
		if (depth > 0 && s !~ /(&&|\|\||\|)$/ && s !~ /\|\|[ \t]*(return|exit)/ && s !~ /done[ \t]*$/)
			print NR ": " s
		next
	}
	if (s ~ /^done([ \t;|&<>]|$)/) { if (depth > 0) depth--; next }
	if (depth > 0 && s ~ /;[ \t]*done([ \t;|&<>].*)?$/) {
		# the last steps and the end of a loop on one line
		check_oneline("do " s, NR)
		depth--
		next
	}
	if (s ~ /(^|[ \t;])do$/) { depth++; next }
	if (depth == 0) next
	if (s ~ /(&&|\|\||\||\\)$/) next
	if (s ~ /(^|[ \t;])(then|else|in)$/ || s ~ /[{(]$/) next
	if (s ~ /^(fi|esac|\}|\)|;;|else|elif|then)([ \t;|&]|$)/) next
	if (s ~ /;;$/ || s ~ /^[^ \t()]*\)/) next
	if (!stops(s)) print NR ": " s
}
