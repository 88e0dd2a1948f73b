# shellcheck shell=bash
# Builds the CLI when, and only when, a source it compiles changed. Sourced by ./writeback (and by its test, which puts
# a fake `dotnet` first on PATH); needs WRITEBACK_ROOT.

require_dotnet() {
    if ! command -v dotnet >/dev/null 2>&1; then
        echo "writeback: the .NET SDK is not installed; install .NET 10 (https://dot.net) and try again." >&2
        exit 1
    fi
}

cli_dll="$WRITEBACK_ROOT/functions/cli/Writeback.Cli/bin/Release/net10.0/writeback.dll"

# The build is skipped when nothing it compiles changed since the last successful one: a `dotnet build` that finds
# nothing to do still costs seconds per command. The stamp is taken when a build starts, so an edit made during the
# build counts as newer; directories count too, so an added or deleted file is seen (their mtime changes).
cli_stamp="$WRITEBACK_ROOT/functions/cli/Writeback.Cli/bin/Release/.writeback-built"

cli_up_to_date() {
    [[ -f "$cli_dll" && -f "$cli_stamp" ]] || return 1
    local newer
    newer="$(find "$WRITEBACK_ROOT/functions" "$WRITEBACK_ROOT/sql" "$WRITEBACK_ROOT/Directory.Build.props" \
        "$WRITEBACK_ROOT/Directory.Packages.props" "$WRITEBACK_ROOT/global.json" \
        \( -name bin -o -name obj \) -prune -o -newer "$cli_stamp" -print -quit 2>/dev/null)"
    [[ -z "$newer" ]]
}

build_cli() {
    require_dotnet
    if cli_up_to_date; then
        return
    fi
    echo "writeback: building the CLI…" >&2
    mkdir -p "$(dirname "$cli_stamp")"
    touch "$cli_stamp.new"
    local log; log="$(mktemp)"
    if ! dotnet build "$WRITEBACK_ROOT/functions/cli/Writeback.Cli/Writeback.Cli.csproj" -c Release --nologo -v q -clp:ErrorsOnly >"$log" 2>&1; then
        cat "$log" >&2; rm -f "$log"
        echo "writeback: the build failed (above); fix it or run 'dotnet build serverless.sln' to see more." >&2
        exit 1
    fi
    rm -f "$log"
    mv -f "$cli_stamp.new" "$cli_stamp"
}
