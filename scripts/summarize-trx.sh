#!/usr/bin/env bash
# Adds up the TRX result files of one test run and prints a single closing line: "N passed, N failed, N skipped".
set -euo pipefail
passed=0 failed=0 skipped=0 total=0
for trx in "$@"; do
    [[ -f "$trx" ]] || continue
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
    value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
    total=$(( total + $(value total) ))
    passed=$(( passed + $(value passed) ))
    failed=$(( failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted) ))
    skipped=$(( skipped + $(value notExecuted) ))
done
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if (( total == 0 )); then echo "writeback: no tests were executed" >&2; exit 1; fi
(( failed == 0 ))
