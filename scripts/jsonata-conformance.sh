#!/usr/bin/env bash
# Prints the engine's JSONata conformance: the reference implementation's own test suite (jsonata-js
# test/test-suite, copied under tests/local/Writeback.StepFunctions.Tests/Jsonata/test-suite) run case by case,
# the pass rate per group and overall, and the cases that fail. Exits non-zero when the rate falls below
# the floor recorded in JsonataConformanceTests.cs.
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  echo "usage: scripts/jsonata-conformance.sh   (builds tests/local/Writeback.StepFunctions.Tests first)"
  exit 0
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
project="$root/tests/local/Writeback.StepFunctions.Tests"
dotnet build "$project" --nologo -v quiet >/dev/null
dotnet test "$project" --no-build --nologo --filter "FullyQualifiedName~JsonataConformanceTests" \
  --logger "console;verbosity=detailed" | sed -n '/excluded\|[0-9]\/[0-9]\|overall\|failures:\|^ [a-z-]*\/\|Passed!\|Failed!/p'
