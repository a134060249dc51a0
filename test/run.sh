#!/usr/bin/env bash
# Runs every test with tap and ends with one plain summary line
# ("tests: N passed, N failed[, N skipped]") that CI and people can read at a glance.
# LOADED=1 runs the suite beside a CPU hog (two busy loops per core, or
# LOADED_HOGS of them): a suite people trust passes on a busy CI runner too.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
log=$(mktemp)
hogs=()
# Each hog is ended here by its pid; a hog also ends by itself once this
# script is gone (checked about every 100 ms), so not even a SIGKILL of the
# runner leaves one behind.
end_hogs() {
  local pid
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null; done
  hogs=()
}
tap_pid=
# An interrupted run ends tap (and with it the tests) and the hogs at once.
end_tap() { [ -n "$tap_pid" ] && kill -TERM "$tap_pid" 2>/dev/null; }
trap 'end_hogs; rm -f "$log"' EXIT
trap 'end_tap; exit 130' INT
trap 'end_tap; exit 143' TERM
if [ "${LOADED:-0}" != 0 ]; then
  count=${LOADED_HOGS:-$(( 2 * $(nproc) ))}
  for (( i = 0; i < count; i++ )); do
    bash -c 'while kill -0 "$1" 2>/dev/null; do for (( j = 0; j < 20000; j++ )); do :; done; done' hog $$ &
    hogs+=("$!")
  done
  hogs_note=", beside $count busy loops (LOADED)"
  echo "tests: LOADED: $count busy loops beside the suite (pids ${hogs[*]})"
fi
started=$SECONDS
# tap runs in the background so that a signal's trap runs at once, not when tap ends.
exec 3> >(tee "$log")
tee_pid=$!
tap "$@" >&3 2>&1 &
tap_pid=$!
wait "$tap_pid"
status=$?
tap_pid=
exec 3>&-
wait "$tee_pid"
end_hogs
summary=$(grep -E '^# \{ total: [0-9]+' "$log" | tail -n 1)
total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary")
passed=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
skipped=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
if [ -z "$total" ]; then
  echo "tests: tap printed no summary (exit $status)" >&2
  exit $(( status == 0 ? 1 : status ))
fi
# The failures again, at the end where CI's tail shows them: each failed
# test's path (file > subtest > assertion) and the first lines of the failed
# assertion's diagnostics, so a flaky test is named even in a cut log.
if [ "${failed:-0}" != 0 ]; then
  echo "tests: what failed:"
  awk '
    /^ *# Subtest: / { depth = (index($0, "#") - 1) / 4; name[depth] = substr($0, index($0, "# Subtest: ") + 11); next }
    /^ *not ok [0-9]+ - / {
      diag = 0
      depth = (match($0, /[^ ]/) - 1) / 4
      line = $0; sub(/^ *not ok [0-9]+ - /, "", line); sub(/ # time=.*$/, "", line)
      if (depth == 0) { print "  FAILED " line; next }
      # A failed subtest repeats what its failed assertions said: skip it.
      if (name[depth] == line) next
      path = ""
      for (d = 0; d < depth; d++) path = path name[d] " > "
      print "  not ok: " path line
      shown = 0; diag = 1; next
    }
    diag && /^ *(---|\.\.\.)$/ { next }
    diag && /^ *(ok|not ok|# Subtest:|1\.\.)/ { diag = 0; next }
    diag && shown < 12 { print "      " $0; shown++ }
  ' "$log" | head -n 200
fi
echo "tests: ${passed:-0} passed, ${failed:-0} failed${skipped:+, $skipped skipped} in $(( SECONDS - started )) s${hogs_note:-}"
exit "$status"
