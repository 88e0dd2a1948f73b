#!/usr/bin/env bash
# Builds every deployable artifact into artifacts/:
#   scripts/build-artifacts.sh [RID]      RID = linux-arm64 (default: what template.yaml deploys) or linux-x64
#
#   artifacts/writeback-writers.zip   Native AOT bootstrap hosting the five step handlers + targets/ (+ certs/ if present)
#   artifacts/writeback-trigger.zip   Native AOT bootstrap hosting the trigger + targets/ (the datasets it accepts)
#   artifacts/aggregate/              the GCP aggregate function: framework-dependent publish + Dockerfile (Cloud Run)
# For a RID other than linux-arm64 the two zips go to artifacts/<RID>/ instead (local measurement, not deployment).
#
# Native AOT needs clang and zlib; building linux-arm64 on an x64 Debian/Ubuntu machine also needs the aarch64
# cross toolchain and arm64 zlib. When they are missing and we are root, they are installed with apt-get.
# Any compiler, trim or AOT warning fails the build (TreatWarningsAsErrors), and so does a bootstrap that needs a
# newer glibc than Lambda's provided.al2023 has (2.34).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rid="${1:-linux-arm64}"
case "$rid" in
    linux-arm64|linux-x64) ;;
    *) echo "build-artifacts: unsupported RID '$rid' (use linux-arm64 or linux-x64)" >&2; exit 2 ;;
esac
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

host_arch="$(uname -m)"
cross=false
if [[ "$rid" == linux-arm64 && "$host_arch" != aarch64 ]]; then cross=true; fi
if [[ "$rid" == linux-x64 && "$host_arch" != x86_64 ]]; then
    echo "build-artifacts: building linux-x64 on $host_arch is not supported; build on an x64 machine" >&2; exit 2
fi

# --- toolchain -----------------------------------------------------------------------------------------------
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v zip >/dev/null 2>&1 || missing+=(zip)
if $cross; then
    command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
    command -v ld.lld >/dev/null 2>&1 || missing+=(lld)
    [[ -e /usr/lib/aarch64-linux-gnu/libz.a || -e /usr/lib/aarch64-linux-gnu/libz.so ]] || missing+=(zlib1g-dev:arm64)
    command -v aarch64-linux-gnu-objdump >/dev/null 2>&1 || missing+=(binutils-aarch64-linux-gnu)
else
    [[ -e /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
fi
if ((${#missing[@]})); then
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "build-artifacts: missing ${missing[*]}; install them (Debian/Ubuntu package names) and run again" >&2
        exit 1
    fi
    echo "build-artifacts: installing ${missing[*]}" >&2
    if printf '%s\n' "${missing[@]}" | grep -q ':arm64$'; then dpkg --add-architecture arm64; fi
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
objdump_for() { if $cross; then echo aarch64-linux-gnu-objdump; else echo objdump; fi; }

if [[ "$rid" == linux-arm64 ]]; then out="$root/artifacts"; else out="$root/artifacts/$rid"; fi
work="$root/artifacts/.build/$rid"
rm -rf "$work"
mkdir -p "$out" "$work"

# --- Native AOT Lambdas --------------------------------------------------------------------------------------
publish_aot() {
    local project="$1" stage="$2"
    local log="$work/$(basename "$project").log"
    echo "build-artifacts: dotnet publish $project ($rid, Native AOT)" >&2
    # Compiler warnings are errors (Directory.Build.props). ILC's trim/AOT warnings are listed one by one
    # (TrimmerSingleWarn=false) and checked against scripts/aot-warnings.allow below instead of failing ILC
    # outright, because one third-party package (Parquet.Net) has three known ones and no fixed release here.
    if ! dotnet publish "$root/$project" -c Release -r "$rid" -o "$stage" \
        -p:TreatWarningsAsErrors=true -p:IlcTreatWarningsAsErrors=false -p:TrimmerSingleWarn=false \
        --nologo >"$log" 2>&1; then
        cat "$log" >&2
        echo "build-artifacts: publish of $project failed (log above)" >&2
        exit 1
    fi
    local unexpected
    unexpected="$({ grep -E 'warning (IL[0-9]+|[A-Z]+[0-9]+)' "$log" || true; } | while IFS= read -r line; do
        code_member="$(grep -oE 'IL[0-9]+: [^ ]+' <<<"$line" | head -1 | sed 's/:$//' || true)"
        if [[ -z "$code_member" ]] || ! grep -qxF "$code_member" "$root/scripts/aot-warnings.allow"; then
            echo "$line"
        fi
    done | sort -u)"
    if [[ -n "$unexpected" ]]; then
        echo "$unexpected" >&2
        echo "build-artifacts: $project published with warnings (above); fix them, or if a third-party" \
            "package causes one and it is safe, add 'CODE: Member' with the reason to scripts/aot-warnings.allow" >&2
        exit 1
    fi
    rm -f "$stage"/*.dbg "$stage"/*.pdb
    [[ -x "$stage/bootstrap" ]] || { echo "build-artifacts: $stage/bootstrap was not produced" >&2; exit 1; }
    # A native build can run here: prove the AOT binary starts and hosts its handlers (trimming can break startup).
    if ! $cross; then
        "$stage/bootstrap" --list-handlers >"$work/handlers.txt" || { echo "build-artifacts: $stage/bootstrap does not start" >&2; exit 1; }
        echo "build-artifacts: $(basename "$project" .csproj) hosts $(paste -sd' ' "$work/handlers.txt")" >&2
    fi
    # provided.al2023 ships glibc 2.34: a binary linked against newer symbols would fail at its first cold start.
    local newest
    newest="$("$(objdump_for)" -T "$stage/bootstrap" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
    if [[ "$(printf '%s\n' "$newest" GLIBC_2.34 | sort -V | tail -1)" != GLIBC_2.34 ]]; then
        echo "build-artifacts: $stage/bootstrap needs $newest, newer than provided.al2023's GLIBC_2.34" >&2
        exit 1
    fi
}

zip_stage() {
    local stage="$1" zipfile="$2"
    rm -f "$zipfile"
    # -X: no extra file attributes, so the same inputs give the same zip; bootstrap keeps its executable bit.
    (cd "$stage" && zip -q -X -r "$zipfile" .)
}

writers="$work/writers"
publish_aot functions/aws/Writeback.Writers.Host/Writeback.Writers.Host.csproj "$writers"
if [[ ! -d "$root/targets" ]]; then
    echo "build-artifacts: $root/targets (the target contracts) is missing; the writers need it" >&2
    exit 1
fi
cp -r "$root/targets" "$writers/targets"
# Optional CA bundle for a direct RDS endpoint (template parameter DbRootCertificate=certs/<file>.pem).
if [[ -d "$root/certs" ]]; then cp -r "$root/certs" "$writers/certs"; fi
zip_stage "$writers" "$out/writeback-writers.zip"

trigger="$work/trigger"
publish_aot functions/aws/Writeback.Trigger.Host/Writeback.Trigger.Host.csproj "$trigger"
# The trigger accepts events only for datasets that have a target contract (it reads targets/ next to bootstrap).
cp -r "$root/targets" "$trigger/targets"
zip_stage "$trigger" "$out/writeback-trigger.zip"

# --- GCP aggregate function (Cloud Run, x64 container) -----------------------------------------------------
aggregate="$root/artifacts/aggregate"
rm -rf "$aggregate"
mkdir -p "$aggregate"
echo "build-artifacts: dotnet publish functions/gcp/Writeback.Aggregate (linux-x64, framework-dependent, for Cloud Run)" >&2
log="$work/aggregate.log"
if ! dotnet publish "$root/functions/gcp/Writeback.Aggregate/Writeback.Aggregate.csproj" -c Release -r linux-x64 \
    --self-contained false -o "$aggregate/app" -p:TreatWarningsAsErrors=true --nologo >"$log" 2>&1; then
    cat "$log" >&2
    echo "build-artifacts: publish of the aggregate function failed (log above)" >&2
    exit 1
fi
if grep -E ': warning [A-Z]+[0-9]+' "$log" >&2; then
    echo "build-artifacts: the aggregate function published with warnings (above)" >&2
    exit 1
fi
# The aggregation models (sql/) are embedded in the assembly; nothing else is read from disk.
rm -f "$aggregate"/app/*.pdb
cat > "$aggregate/Dockerfile" <<'DOCKERFILE'
# Built by scripts/build-artifacts.sh: docker build -t IMAGE artifacts/aggregate && docker push IMAGE
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY app/ ./
# Cloud Run sends traffic to $PORT (8080); the app reads PORT itself, and this keeps a plain `docker run` working.
# Workstation GC: one request at a time in a 1 GiB instance does not need per-core heaps.
ENV PORT=8080 DOTNET_gcServer=0
USER app
ENTRYPOINT ["dotnet", "Writeback.Aggregate.dll"]
DOCKERFILE
(cd "$aggregate" && tar -czf "$root/artifacts/aggregate-context.tar.gz" .)

rm -rf "$work"
echo "build-artifacts: done ($rid$($cross && echo ', cross-compiled'))" >&2
for f in "$out/writeback-writers.zip" "$out/writeback-trigger.zip" "$root/artifacts/aggregate-context.tar.gz"; do
    printf '%10d bytes  %s\n' "$(stat -c %s "$f")" "${f#"$root"/}"
done
