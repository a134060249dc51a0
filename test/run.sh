#!/usr/bin/env bash
# Runs every test with tap and ends with one plain summary line
# ("tests: N passed, N failed[, N skipped]") that CI and people can read at a glance.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
tap "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E '^# \{ total: [0-9]+' "$log" | tail -n 1)
total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary")
passed=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
skipped=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
if [ -z "$total" ]; then
  echo "tests: tap printed no summary (exit $status)" >&2
  exit $(( status == 0 ? 1 : status ))
fi
echo "tests: ${passed:-0} passed, ${failed:-0} failed${skipped:+, $skipped skipped}"
exit "$status"
