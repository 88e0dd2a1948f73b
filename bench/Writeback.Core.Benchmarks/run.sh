#!/usr/bin/env bash
# The load engine's benchmark against a throwaway PostgreSQL, in one command:
#   bench/Writeback.Core.Benchmarks/run.sh [--load-rows N] [--mirror-rows N] [--memory-mb 64,512] [--repeat N] [--only load,mirror,memory]
# Uses WRITEBACK_PG instead when it is already set (a server you own).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dotnet build "$root/bench/Writeback.Core.Benchmarks/Writeback.Core.Benchmarks.csproj" -c Release --nologo -v q -clp:ErrorsOnly >&2
run() { dotnet "$root/bench/Writeback.Core.Benchmarks/bin/Release/net10.0/Writeback.Core.Benchmarks.dll" "$@"; }
if [[ -n "${WRITEBACK_PG:-}" ]]; then run "$@"; exit; fi
WRITEBACK_ROOT="$root"
# shellcheck source=/dev/null
source "$root/scripts/postgres.sh"
trap pg_throwaway_cleanup EXIT
pg_throwaway_start
run "$@"
