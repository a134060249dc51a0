#!/usr/bin/env bash
# `make bench`: builds the helpers, runs every scenario (each init as PID 1 of
# its own PID namespace, side by side in one run), writes bench/RESULTS.md and
# draws its charts (bench/charts/*.svg, charts.sh). Needs root (unshare
# --pid), tini, dumb-init, hyperfine, strace, gnuplot; see README.md for how long.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_built

SCENARIOS=(startup rss orphans signals shutdown backoff mini-vm-start job host real-apps sigterm)
# The relay and probe scenarios (12, 13) where their scripts are in.
for scenario in relay probe; do
  if [[ -f $BENCH/$scenario.sh ]]; then SCENARIOS+=("$scenario"); fi
done
SCENARIOS+=(scaling-services scaling-jobs scaling-reports scaling-orphans)
missing=()
for tool in strace gnuplot; do command -v "$tool" >/dev/null || missing+=("$tool (apt-get install -y ${tool/gnuplot/gnuplot-nox})"); done
if ((${#missing[@]} > 0)); then
  printf 'bench: missing: %s\n' "${missing[@]}" >&2
  exit 2
fi
# Scenarios that append themselves to RESULTS.md when run alone leave that to this script.
export BENCH_RUN_ALL=1
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$RESULTS_DIR"/*.md "$RESULTS_DIR"/*.summary "$RESULTS_DIR"/*.dat "$RESULTS_DIR"/*.out

for scenario in "${SCENARIOS[@]}"; do
  echo "== $scenario" >&2
  bash "$BENCH/$scenario.sh" >"$RESULTS_DIR/$scenario.out"
  # A scenario that prints its section but leaves no NAME.md: its output is the section.
  if [[ ! -f $RESULTS_DIR/$scenario.md ]]; then cp "$RESULTS_DIR/$scenario.out" "$RESULTS_DIR/$scenario.md"; fi
  if [[ ! -f $RESULTS_DIR/$scenario.summary ]]; then
    echo "bench: $scenario left no Targets row ($RESULTS_DIR/$scenario.summary)" >&2
    : >"$RESULTS_DIR/$scenario.summary"
  fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
bash "$BENCH/charts.sh"

out="$BENCH/RESULTS.md.tmp"
{
  echo "# boxinit benchmark results"
  echo
  echo "Written by \`make bench\` (bench/run.sh); see bench/README.md for what each scenario does."
  echo "Every init ran as PID 1 of its own PID namespace (\`unshare --pid --fork --mount-proc\`), stdin"
  echo "/dev/null, NODE_EXTRA_CA_CERTS unset, all in the same run."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
  echo "| CPU | $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), nproc $(nproc) |"
  echo "| kernel | $(uname -r) |"
  echo "| OS | $(. /etc/os-release && echo "$PRETTY_NAME") |"
  echo "| Node (boxinit and the bare SEA) | $("$NODE24" --version) |"
  # What the numbers were measured with: a reader must be able to tell which
  # build and which machine they describe.
  echo "| boxinit | $("$BOXINIT" --version 2>/dev/null | awk '{ print $2 }'), $(boxinit_description) |"
  echo "| tini / dumb-init | $(tini --version | awk '{ print $3 }') / $(dumb-init --version 2>&1 | awk '{ print $2 }') (Debian packages) |"
  echo "| load average (1/5/15 min) | before $load_before, after $load_after |"
  echo "| duration | $(($(date +%s) - started)) s |"
  echo
  echo "A load average near or above the core count means other work shared the CPUs: the medians"
  echo "then carry that noise (ratios within one run are the fairer comparison)."
  echo
  echo "## Targets (boxinit)"
  echo
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  for scenario in "${SCENARIOS[@]}"; do cat "$RESULTS_DIR/$scenario.summary"; done
  echo
  echo "## Charts"
  echo
  echo "Drawn by [charts.sh](charts.sh) (gnuplot) from this run's data; the scaling curves are in sections 14–17."
  echo
  echo "![start-up against tini, dumb-init and the bare Node SEA](charts/startup.svg)"
  echo "![memory against tini, dumb-init and the bare Node SEA](charts/memory.svg)"
  if [[ -f $BENCH/charts/relay.svg ]]; then echo "![relay: CPU per GB relayed](charts/relay.svg)"; fi
  echo
  for scenario in "${SCENARIOS[@]}"; do cat "$RESULTS_DIR/$scenario.md"; done
} >"$out"
mv "$out" "$BENCH/RESULTS.md"
echo "bench: wrote $BENCH/RESULTS.md" >&2
