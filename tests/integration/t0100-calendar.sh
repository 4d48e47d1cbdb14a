#!/bin/sh
# volrep calendar: every reference vector through the CLI, output formats,
# argument errors, and a cross-check with systemd-analyze when available.
. "$(dirname "$0")/../lib/test-lib.sh"

TAB=$(printf '\t')

# iso EPOCH...: the events as ISO 8601 in local time (TZ), JSON strings
iso() {
	_sep=
	for _e in "$@"; do
		printf '%s"%s"' "$_sep" "$(date -d "@$_e" +%Y-%m-%dT%H:%M:%S%:z)"
		_sep=,
	done
}

# The specs of the vector files contain no '"' or backslash, so they need no JSON escaping.
expect_json() { # spec, expected (epoch | NONE), output file
	case "$2" in
	NONE) printf '{"spec":"%s","next":[],"next_time":[]}\n' "$1" ;;
	*) printf '{"spec":"%s","next":[%s],"next_time":[%s]}\n' "$1" "$2" "$(TZ=$tz iso "$2")" ;;
	esac >"$TRASH/.want"
	cmp -s "$TRASH/.want" "$3"
}

# run_vectors FILE WITH_TZ: spec, [tz,] start, expected; one line of report per failure
run_vectors() {
	bad=0
	n=0
	while IFS= read -r line; do
		case "$line" in '#'*) continue ;; esac
		spec=${line%%"$TAB"*}; rest=${line#*"$TAB"}
		tz=UTC
		if [ "$2" = yes ]; then tz=${rest%%"$TAB"*}; rest=${rest#*"$TAB"}; fi
		start=${rest%%"$TAB"*}; rest=${rest#*"$TAB"}
		want=${rest%%"$TAB"*}
		n=$((n + 1))
		rc=0
		TZ=$tz "$VOLREP" calendar "$spec" --from "$start" --iterations 1 --output-format json \
			>"$TRASH/.out" 2>"$TRASH/.err" || rc=$?
		if [ "$want" = ERROR ]; then
			if [ "$rc" != 2 ] || [ -s "$TRASH/.out" ] ||
			   ! grep -qF "invalid calendar event '$spec' - " "$TRASH/.err" ||
			   [ "$(wc -l <"$TRASH/.err")" != 1 ]; then
				echo "'$spec': expected exit 2 with one error line, got $rc: $(cat "$TRASH/.err")"
				bad=$((bad + 1))
			fi
		elif [ "$rc" != 0 ] || ! expect_json "$spec" "$want" "$TRASH/.out"; then
			echo "'$spec' TZ=$tz from $start: want $want, got (exit $rc) $(cat "$TRASH/.out" "$TRASH/.err")"
			bad=$((bad + 1))
		fi
	done <"$1"
	echo "$n vectors, $bad failed"
	[ "$bad" = 0 ] && [ "$n" -gt 0 ]
}

test_expect_success 'reference vectors (calendar_examples.tsv) via the CLI, TZ=UTC' '
	run_vectors "$TOP/tests/data/calendar_examples.tsv" no >out &&
	cat out && grep -q "^44 vectors, 0 failed" out
'

test_expect_success 'own vectors (calendar_own.tsv) via the CLI' '
	run_vectors "$TOP/tests/data/calendar_own.tsv" yes
'

test_expect_success 'text output: header, then the local time and epoch per event' '
	TZ=UTC "$VOLREP" calendar "mon..fri 22:30 UTC" --from 1741386600 --iterations 3 >actual &&
	cat >expect <<-\EOF &&
	next elapses of '"'"'mon..fri 22:30 UTC'"'"' (normalized: mon..fri *-*-* 22:30:00 UTC):
	2025-03-10 22:30:00  1741645800
	2025-03-11 22:30:00  1741732200
	2025-03-12 22:30:00  1741818600
	EOF
	test_cmp expect actual &&
	# a UTC schedule in another zone: its events in local time, as status shows them
	TZ=Europe/Vienna "$VOLREP" calendar "mon..fri 22:30 UTC" --from 1741386600 --iterations 1 >actual &&
	sed -n 2p actual | grep -q "^2025-03-10 23:30:00  1741645800$"
'

test_expect_success 'text output in local time (DST gap skipped)' '
	TZ=Europe/Vienna "$VOLREP" calendar "2:30" --from 1711800000 --iterations 2 >actual &&
	cat >expect <<-\EOF &&
	next elapses of '"'"'2:30'"'"' (normalized: *-*-* 02:30:00):
	2024-04-01 02:30:00  1711931400
	2024-04-02 02:30:00  1712017800
	EOF
	test_cmp expect actual
'

test_expect_success 'default is 10 iterations from now (VOLREP_NOW)' '
	VOLREP_NOW=1741168830 TZ=UTC "$VOLREP" calendar "*/5" >actual &&
	test "$(wc -l <actual)" = 11 &&
	sed -n 2p actual | grep -q "^2025-03-05 10:05:00  1741169100$" &&
	sed -n 11p actual | grep -q "  1741171800$"
'

test_expect_success '--iterations N gives N events; the list ends with the schedule' '
	TZ=UTC "$VOLREP" calendar "*/15" --from 1741168800 --iterations 3 --output-format json >actual &&
	echo "{\"spec\":\"*/15\",\"next\":[1741169700,1741170600,1741171500],\"next_time\":[\"2025-03-05T10:15:00+00:00\",\"2025-03-05T10:30:00+00:00\",\"2025-03-05T10:45:00+00:00\"]}" >expect &&
	test_cmp expect actual &&
	TZ=UTC "$VOLREP" calendar 2015-10-21 --from=0 --iterations=5 --output-format=json >actual &&
	echo "{\"spec\":\"2015-10-21\",\"next\":[1445385600],\"next_time\":[\"2015-10-21T00:00:00+00:00\"]}" >expect &&
	test_cmp expect actual &&
	TZ=UTC "$VOLREP" calendar 02-30 --from 0 >actual &&
	grep -q "^no further event$" actual
'

test_expect_success 'negative --from' '
	TZ=UTC "$VOLREP" calendar daily --from -1 --iterations 2 --output-format json >actual &&
	echo "{\"spec\":\"daily\",\"next\":[0,86400],\"next_time\":[\"1970-01-01T00:00:00+00:00\",\"1970-01-02T00:00:00+00:00\"]}" >expect &&
	test_cmp expect actual
'

test_expect_success 'invalid spec: exit 2, the reason on stderr' '
	run_mustfail 2 "$VOLREP" calendar "*/61" --from 0 >out 2>err &&
	test ! -s out &&
	grep -qF "invalid calendar event '"'"'*/61'"'"' - repetition '"'"'61'"'"' out of range" err &&
	run_mustfail 2 "$VOLREP" calendar "" 2>err &&
	grep -qF "invalid calendar event '"'"''"'"' - event is empty" err &&
	run_mustfail 2 "$VOLREP" calendar "mon fri" 2>err &&
	grep -qF "unused parts '"'"'fri'"'"'" err
'

test_expect_success 'bad arguments: exit 2 with one line naming the value' '
	for args in "--iterations 0" "--iterations -1" "--iterations abc" "--iterations 100001" \
		    "--from abc" "--from 1.5" "--from 99999999999999999999" "--output-format xml" \
		    "--bogus" "extra"; do
		rc=0
		# shellcheck disable=SC2086
		"$VOLREP" calendar daily $args >out 2>err || rc=$?
		test "$rc" = 2 || fail "$args: exit $rc" || return 1
		test "$(wc -l <err)" = 1 || fail "$args: $(cat err)" || return 1
		test ! -s out || fail "$args printed output" || return 1
	done &&
	run_mustfail 2 "$VOLREP" calendar daily --from 2>err && grep -q "needs a value" err &&
	run_mustfail 2 "$VOLREP" calendar 2>err && grep -q usage err &&
	run_mustfail 2 "$VOLREP" calendar daily --iterations 0 2>err && grep -q "'"'"'0'"'"'" err &&
	run_mustfail 2 "$VOLREP" calendar daily --output-format xml 2>err && grep -q "'"'"'xml'"'"'" err
'

if command -v systemd-analyze >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 &&
   TZ=UTC systemd-analyze calendar --base-time=@0 daily >/dev/null 2>&1; then
	test_expect_success 'random specs agree with systemd-analyze calendar (UTC)' '
		{ python3 "$TOP/tests/tools/calendar-vs-systemd.py" "$VOLREP" 150 42 >out ||
			{ cat out; false; }; } &&
		tail -1 out && grep -q "^compared 150 specs with systemd-analyze, 0 mismatches" out
	'
else
	test_skip 'random specs agree with systemd-analyze calendar (UTC)' 'no systemd-analyze or python3'
fi

test_done
