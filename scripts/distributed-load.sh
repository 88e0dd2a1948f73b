#!/usr/bin/env bash
# Runs one batch of many tiny shards (default 20,000; one row each, class_summary) through
# statemachines/writeback.asl.json with the real step handlers against a throwaway PostgreSQL, the path a batch over
# 800 shards takes: the Distributed Map. Prints the wall time and the history sizes (parent, children). It is
# tests/cli/Writeback.Cli.Tests DistributedLoadTests at full size; CI runs the same test with 900 shards.
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  echo "usage: scripts/distributed-load.sh [SHARDS]   (WRITEBACK_PG: use your own server instead of a throwaway one)"
  exit 0
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
export WRITEBACK_ROOT="$root"
export WRITEBACK_DISTRIBUTED_SHARDS="${1:-20000}"
report="$(mktemp)"
export WRITEBACK_DISTRIBUTED_REPORT="$report"
if [[ -z "${WRITEBACK_PG:-}" ]]; then
  source "$root/scripts/postgres.sh"
  trap 'pg_throwaway_cleanup; rm -f "$report"' EXIT
  pg_throwaway_start
else
  trap 'rm -f "$report"' EXIT
fi
project="$root/tests/cli/Writeback.Cli.Tests"
if ! built="$(dotnet build "$project" --nologo -v quiet 2>&1)"; then
  grep -E "error" <<<"$built" >&2 || printf '%s\n' "$built" >&2
  exit 1
fi
dotnet test "$project" --no-build --nologo --filter "FullyQualifiedName~DistributedLoadTests" | sed -n '/Passed!\|Failed!\|Error Message\|^ \{3\}[A-Z]/p'
cat "$report"
