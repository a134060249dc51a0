#!/usr/bin/env bash
# Scenario 9, the host tool: wall time of one `boxinit host` command on the
# Docker host (hyperfine), next to the docker CLI asking the engine the same
# thing. What a crontab line costs: `host cron BOOK` with the container
# running ("nothing to do": the book, the lock, two engine calls), `host status`,
# and `host run --dry-run` (the book alone, no engine: dockerode not loaded).
# Needs a Docker engine and boxinit/base:latest (make e2e-images).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

if ! docker image inspect boxinit/base:latest >/dev/null 2>&1; then
  echo "host: needs a Docker engine and boxinit/base:latest: run make e2e-images (as root) first" >&2
  exit 2
fi

RUNS=${BENCH_HOST_RUNS:-30}
work=$(mktemp -d)
name="bench-host-$$"
book="$work/$name.book.yaml"
cleanup() {
  docker rm -f "$name-production" >/dev/null 2>&1 || true
  docker image rm "boxinit-bench/$name:run" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cat >"$book" <<BOOK
name: $name
image: boxinit-bench/$name
network: none
command: [--, sleep, "3600"]
maps:
  - {src: $work/home, dst: /docker}
BOOK
docker tag boxinit/base:latest "boxinit-bench/$name:run"
"$BOXINIT" host run "$book" >/dev/null

NAMES=(docker-inspect host-dry-run host-status host-cron)
COMMANDS=(
  "docker inspect $name-production"
  "$BOXINIT host run $book --dry-run"
  "$BOXINIT host status $book"
  "$BOXINIT host cron $book"
)

echo "host: wall time of each, hyperfine, $RUNS runs" >&2
if ! hyperfine -N --warmup 3 --runs "$RUNS" --style none -i --export-json "$work/wall.json" \
  "${COMMANDS[@]}" </dev/null >"$work/hyperfine.log" 2>&1; then
  cat "$work/hyperfine.log" >&2
  exit 1
fi
for ((i = 0; i < ${#NAMES[@]}; i++)); do
  jq -r ".results[$i].times[]" "$work/wall.json" | awk '{ printf "%.0f\n", $1 * 1e9 }' >"$work/wall-${NAMES[i]}"
done
[[ $(docker inspect -f '{{.State.Running}}' "$name-production") == true ]] || { echo "host: cron touched the running container" >&2; exit 1; }

read -r docker_median _ _ < <(stats "$work/wall-docker-inspect")
read -r cron_median _ _ < <(stats "$work/wall-host-cron")
LIMIT_NS=150000000

label() {
  case "$1" in
    docker-inspect) echo "\`docker inspect NAME-production\` (the docker CLI)" ;;
    host-dry-run) echo "\`boxinit host run BOOK --dry-run\` (book only, no engine)" ;;
    host-status) echo "\`boxinit host status BOOK\`" ;;
    host-cron) echo "\`boxinit host cron BOOK\` (running: nothing to do)" ;;
  esac
}

{
  echo "## 9. Host tool"
  echo
  echo "Wall time of one command on the host (hyperfine, $RUNS runs each), the container running."
  echo "\`host status\` and \`host cron\` load dockerode (its own lazy bundle with a code cache) and make two"
  echo "engine calls; \`--dry-run\` reads the book only. Target: \`host cron\` ≤ 150 ms (a crontab line)."
  echo
  echo "| command | median ms | p90 ms | vs docker inspect |"
  echo "|---|---:|---:|---:|"
  # (row, not name: $name is the container the EXIT trap removes)
  for row in "${NAMES[@]}"; do
    read -r median p90 _ < <(stats "$work/wall-$row")
    echo "| $(label "$row") | $(ns_to_ms "$median") | $(ns_to_ms "$p90") | $(ratio "$median" "$docker_median") |"
  done
  echo
} >"$RESULTS_DIR/host.md"

awk -v c="$cron_median" -v l="$LIMIT_NS" 'BEGIN {
  printf "| host cron (running: nothing to do) ≤ 150 ms | %.1f ms | %s |\n", c / 1e6, (c <= l) ? "met" : sprintf("missed by %.1f ms", (c - l) / 1e6) }' >"$RESULTS_DIR/host.summary"

cat "$RESULTS_DIR/host.md"
