#!/bin/sh
# Run every benchmark and print its figures under a heading. `make bench`
# builds build/volrep and build/bench/* first. Add a section per benchmark.
set -eu
cd "$(dirname "$0")/.."

section() {
	echo
	echo "== $1"
}

section "calendar: next-event computation (bench/bench-calendar.c)"
build/bench/bench-calendar tests/data/calendar_examples.tsv
