# shellcheck shell=bash
# Shared by the scaling scenarios (scaling-*.sh): the list of sizes a curve is
# measured at, the data files the charts are drawn from, and the curve's
# target ("linear or better", or "flat") as a line and a verdict. Sourced
# after lib.sh, never run.

# The median of a file of samples (lib.sh's stats, first field).
median_of() { stats "$1" | awk '{ print $1 }'; }

# The sizes of a curve: $1 is the default list; BENCH_SCALE_MAX drops the
# sizes above it (a short run while developing), and a scenario's own
# variable, named in $2, replaces the list (e.g. BENCH_SCALE_SERVICES="1 10").
scale_sizes() {
  local defaults=$1 override=${!2:-} size kept=()
  for size in ${override:-$defaults}; do
    if [[ -z ${BENCH_SCALE_MAX:-} ]] || ((size <= BENCH_SCALE_MAX)); then kept+=("$size"); fi
  done
  ((${#kept[@]} > 0)) || kept=("${defaults%% *}")
  echo "${kept[@]}"
}

# The target of a curve as a line, appended to each row of a data file as a
# new last column. $1 the data file (a "# ..." header, then rows sorted by the
# first column), $2 the 1-based column of the cost, $3 the kind:
#   linear: the straight line through the first row and the middle row (the
#           cost of the low half, extrapolated): a linear curve follows it, a
#           better one stays under it, a worse one (quadratic) rises above it;
#           a low half that falls (noise around a flat cost) gives a flat line;
#   flat:   the first row's cost at every size (must not grow).
# The header gets the column's name ($4).
add_target() {
  local file=$1 column=$2 kind=$3 name=$4
  awk -v c="$column" -v kind="$kind" -v name="$name" '
    /^#/ { header = $0; next }
    NF > 0 { n++; row[n] = $0; x[n] = $1; y[n] = $c }
    END {
      print header " " name
      middle = int((n + 1) / 2); if (middle < 2 && n >= 2) middle = 2
      slope = 0
      if (kind == "linear" && n >= 2 && x[middle] != x[1]) slope = (y[middle] - y[1]) / (x[middle] - x[1])
      if (slope < 0) slope = 0
      for (i = 1; i <= n; i++) printf "%s %.4f\n", row[i], y[1] + slope * (x[i] - x[1])
    }' "$file" >"$file.tmp"
  mv "$file.tmp" "$file"
}

# The verdict of a curve at the top of its range: "met" when the cost there
# ($2, a column) is at most 1.25× its target line ($3, a column) plus $4 (an
# absolute slack in the cost's unit, for costs near the noise floor); else
# "missed: N× the target line at SIZE".
curve_verdict() {
  local file=$1 cost=$2 target=$3 slack=${4:-0}
  awk -v c="$cost" -v t="$target" -v s="$slack" '
    /^#/ || NF == 0 { next }
    { x = $1; y = $c; line = $t }
    END {
      if (y <= 1.25 * line + s) print "met"
      else printf "missed: %.2f× the target line at %s\n", (line > 0 ? y / line : 0), x
    }' "$file"
}

# Column $2 of the last row of data file $1 (the top of the range), to 3
# significant digits or to one decimal.
top_value() {
  awk -v c="$2" '!/^#/ && NF > 0 { v = $c } END { printf (v >= 100 || v == int(v)) ? "%.0f\n" : (v >= 10 ? "%.1f\n" : "%.2f\n"), v }' "$1"
}

# The status.json writes in an strace log (`strace -f -ttt -T -e
# trace=flock,renameat,renameat2`), one a line in ns: from the status lock
# taken (the last flock a thread got before the rename) to FILE ($2: `status`
# for PID 1, which replaces status.json and then status; `status.json` for a
# job run) renamed into place, plus that rename's own time.
traced_writes() {
  awk -v target="\"$2\"" '
    / flock\(.*= 0 </ { start[$1] = $2; next }
    /renameat2?\(/ && index($0, ", " target) && / = 0 </ && ($1 in start) {
      match($0, /<[0-9.]+>$/); took = substr($0, RSTART + 1, RLENGTH - 2)
      printf "%.0f\n", ($2 + took - start[$1]) * 1e9; delete start[$1]
    }' "$1"
}
