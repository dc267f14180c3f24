#!/usr/bin/env bash
# Observation mode, the seed's first step, as costagent commands (README: "From observe to execute").
#
#   scripts/run_observation_mode.sh PIPELINE [SINCE]  # put PIPELINE in observe mode (recorded in its audit
#                                                     # trail) and report its trail since SINCE (default 14d)
#   scripts/run_observation_mode.sh --demo [DIR]      # offline: the demo in observe mode, its trail exported
#                                                     # to DIR (default ./observation), reported as text and HTML
#
# The first form needs AWS credentials (or `costagent local-aws` and its AWS_ENDPOINT_URL) and names you in
# the record with OPERATOR (default: $USER). Both write observation-<pipeline>.html beside the trail.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COSTAGENT="${COSTAGENT:-$ROOT/.venv/bin/costagent}"
[ -x "$COSTAGENT" ] || { echo "no $COSTAGENT: run 'make install' first (or set COSTAGENT)" >&2; exit 2; }

if [ "${1:-}" = "--demo" ]; then
  dir="${2:-observation}"
  mkdir -p "$dir"
  "$COSTAGENT" demo --mode observe --export "$dir/trail.jsonl"
  "$COSTAGENT" report --trail "$dir/trail.jsonl" --html "$dir/observation-nightly-etl.html"
  exit 0
fi

pipeline="${1:?usage: $0 PIPELINE [SINCE] | --demo [DIR]}"
since="${2:-14d}"
"$COSTAGENT" promote --pipeline "$pipeline" --to observe --by "${OPERATOR:-${USER:-operator}}" \
  --note "observation mode (scripts/run_observation_mode.sh)"
"$COSTAGENT" report --pipeline "$pipeline" --since "$since" --html "observation-$pipeline.html"
