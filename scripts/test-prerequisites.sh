#!/usr/bin/env bash
# Tools the test suite uses besides .NET and PostgreSQL. Installed on first use so a fresh machine passes.
#   tests/tools: npm packages the tests run (asl-validator checks every statemachines/*.asl.json; aws-local-stepfunctions is
#   the differential oracle of the engine).
#   aws: the AWS CLI, the judge of the local Step Functions endpoint.
set -euo pipefail
# No one answers prompts in CI.
export DEBIAN_FRONTEND=noninteractive

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/tests/tools"

if ! command -v npm >/dev/null 2>&1; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        echo "writeback: installing node and npm for asl-validator…" >&2
        apt-get install -y nodejs npm >&2 || { apt-get update >&2 && apt-get install -y nodejs npm >&2; }
    else
        echo "writeback: npm is missing; install Node.js 20+ so the tests can validate statemachines/ with asl-validator." >&2
        exit 1
    fi
fi

# npm writes node_modules/.package-lock.json on every install: older than package.json means a tool was added since.
if [[ ! -f "$tools/node_modules/.package-lock.json" || "$tools/package.json" -nt "$tools/node_modules/.package-lock.json" ]]; then
    echo "writeback: installing the npm test tools into tests/tools…" >&2
    if [[ -f "$tools/package-lock.json" ]]; then
        (cd "$tools" && npm ci --no-audit --no-fund >&2)
    else
        (cd "$tools" && npm install --no-audit --no-fund >&2)
    fi
fi

# Step Functions endpoint tests: the real AWS CLI drives the local endpoint (any v1 or v2; Debian's package is v1).
if ! command -v aws >/dev/null 2>&1; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        echo "writeback: installing the AWS CLI (Debian's awscli) for the Step Functions endpoint tests…" >&2
        apt-get install -y awscli >&2 || { apt-get update >&2 && apt-get install -y awscli >&2; }
    else
        echo "writeback: the AWS CLI is missing; install it (apt-get install -y awscli) so the tests can drive the local Step Functions endpoint." >&2
        exit 1
    fi
fi

# Deploy checks (tests/Writeback.Deploy.Tests): @cdktf/hcl2json comes with the npm tools above; `terraform fmt` needs
# the terraform binary, which no package registry reachable here serves, so say so early instead of installing it.
if ! command -v terraform >/dev/null 2>&1; then
    echo "writeback: terraform is not on PATH; the infra/ formatting test will fail until Terraform >= 1.5 is installed." >&2
fi

# Report and console tests (tests/shared/Writeback.Observability.Tests, tests/cli/Writeback.Cli.Tests/Local/WebConsole): headless Chromium,
# Debian's package `chromium`; Playwright drives it with the driver its NuGet package brings and downloads no browser.
if ! command -v chromium >/dev/null 2>&1 && [[ ! -x /usr/bin/chromium ]]; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        echo "writeback: installing chromium for the report and console tests…" >&2
        apt-get install -y chromium >&2 || { apt-get update >&2 && apt-get install -y chromium >&2; }
    else
        echo "writeback: chromium is missing; install it (apt-get install -y chromium) so the report and console tests can render their pages." >&2
        exit 1
    fi
fi

# Native AOT (tests/cli/Writeback.Cli.Tests/Lambda: the writers' bootstrap is published and run on a real batch) links with
# clang and needs zlib's headers (Debian packages clang, zlib1g-dev).
aot_missing=()
command -v clang >/dev/null 2>&1 || aot_missing+=(clang)
[[ -e /usr/include/zlib.h ]] || aot_missing+=(zlib1g-dev)
if ((${#aot_missing[@]})); then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        echo "writeback: installing ${aot_missing[*]} for the Native AOT test…" >&2
        apt-get install -y --no-install-recommends "${aot_missing[@]}" >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends "${aot_missing[@]}" >&2; }
    else
        echo "writeback: ${aot_missing[*]} missing; install them (apt-get install -y clang zlib1g-dev) so the Native AOT test can publish the writers." >&2
        exit 1
    fi
fi
