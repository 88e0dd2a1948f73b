#!/usr/bin/env bash
# Sums the real-crash suite's per-scenario lines (tests/cli/Writeback.Cli.Tests/Faults) into one line for the CI log:
# faults injected by kind, scenarios held, rows lost, rows duplicated, mixed reads seen by the concurrent reader.
set -euo pipefail
file="${1:?usage: summarize-crash-suite.sh FILE}"
if [[ ! -s "$file" ]]; then
    echo "real-crash suite: did not run (it needs the PostgreSQL binaries ./writeback test provides)"
    exit 0
fi
awk '
    {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        scenarios++; faults += f["faults"]; byKind[f["kind"]] += f["faults"]; held += f["held"]
        lost += f["lost"]; duplicated += f["duplicated"]; mixed += f["mixed"]; samples += f["samples"]; deliveries += f["deliveries"]
    }
    END {
        kinds = ""
        for (k in byKind) kinds = kinds (kinds == "" ? "" : ", ") k " " byKind[k]
        printf "real-crash suite: %d faults injected (%s), %d of %d scenarios held, rows lost %d, rows duplicated %d, mixed reads %d of %d samples, %d deliveries\n",
            faults, kinds, held, scenarios, lost, duplicated, mixed, samples, deliveries
    }' "$file"
