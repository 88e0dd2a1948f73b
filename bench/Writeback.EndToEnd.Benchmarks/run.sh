#!/usr/bin/env bash
# The end-to-end benchmark against a throwaway PostgreSQL, in one command:
#   bench/Writeback.EndToEnd.Benchmarks/run.sh [--size small|medium|large] [--repeat N] [--shards N] [--fillfactor 10..100]
#       [--only fresh,reapply,floor,shards,partitioned,partitioned-reapply] [--date yyyy-MM-dd]
# Uses WRITEBACK_PG instead when it is already set (a server you own; the bench empties dashboard.student_daily there;
# server CPU is n/a unless WRITEBACK_PG_DATADIR names its data directory).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dotnet build "$root/bench/Writeback.EndToEnd.Benchmarks/Writeback.EndToEnd.Benchmarks.csproj" -c Release --nologo -v q -clp:ErrorsOnly >&2
export WRITEBACK_ROOT="$root"
run() { dotnet "$root/bench/Writeback.EndToEnd.Benchmarks/bin/Release/net10.0/Writeback.EndToEnd.Benchmarks.dll" "$@"; }
if [[ -n "${WRITEBACK_PG:-}" ]]; then run "$@"; exit; fi
# shellcheck source=/dev/null
source "$root/scripts/postgres.sh"
trap pg_throwaway_cleanup EXIT
pg_throwaway_start
run "$@"
