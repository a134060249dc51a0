#!/usr/bin/env bash
# Draws the charts RESULTS.md embeds, bench/charts/*.svg, with gnuplot from
# the data files the scenarios leave in build/bench/results (NAME.dat: a
# "# column names" line, then rows; labels in double quotes). A chart whose
# data file is missing is left as it is (a scenario not run this time).
# Run by bench/run.sh; by bench/update-results.sh with the scenarios it re-ran
# (bash bench/charts.sh SCENARIO...: only the charts of their data files,
# whose names start with the scenario's name, so data left by an earlier or a
# shortened run never redraws a chart that RESULTS.md's tables do not match).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHARTS="$BENCH/charts"
command -v gnuplot >/dev/null || { echo "charts: missing gnuplot (apt-get install -y gnuplot-nox)" >&2; exit 2; }
mkdir -p "$CHARTS"
ONLY=("$@")

# Every chart: the same size, font and colours; white behind, so it reads on a dark page too.
COMMON='
set terminal svg size 720,400 dynamic enhanced font "Helvetica,12" background rgb "white"
set border 3; set tics nomirror; set grid ytics lc rgb "#dddddd"
set key top left box opaque
set linetype 1 lc rgb "#1f77b4" lw 2 pt 7 ps 0.8
set linetype 2 lc rgb "#d62728" lw 2 pt 5 ps 0.8
set linetype 3 lc rgb "#2ca02c" lw 2 pt 9 ps 0.8
set linetype 4 lc rgb "#ff7f0e" lw 2 pt 11 ps 0.8
'

# plot NAME DATA GNUPLOT...: draws $CHARTS/NAME.svg from $RESULTS_DIR/DATA.dat
# (the script refers to it as DATA) when that file exists.
plot() {
  local name=$1 data="$RESULTS_DIR/$2.dat" script=$3 scenario wanted=$((${#ONLY[@]} == 0))
  for scenario in "${ONLY[@]}"; do [[ $2 != "$scenario"* ]] || wanted=1; done
  ((wanted)) || return 0
  if [[ ! -s $data ]]; then
    echo "charts: no $data: $name.svg left as it was" >&2
    return
  fi
  # One script file: gnuplot's -e takes a single line.
  printf "DATA = '%s'\n%s\nset output '%s'\n%s\n" "$data" "$COMMON" "$CHARTS/$name.svg" "$script" >"$RESULTS_DIR/$name.gp"
  if ! gnuplot "$RESULTS_DIR/$name.gp" 2>"$RESULTS_DIR/gnuplot.log"; then
    cat "$RESULTS_DIR/gnuplot.log" >&2
    echo "charts: gnuplot failed on $name" >&2
    exit 1
  fi
  echo "charts: wrote $CHARTS/$name.svg" >&2
}

# Bars of one column per init, with a target drawn as a dashed line.
BARS='
set style data histograms; set style histogram clustered gap 1; set style fill solid 0.85 border -1
set boxwidth 0.8; set xtics rotate by 25 right scale 0 font ",11"; set yrange [0:*]; set bmargin 7; set lmargin 16
set key outside top center horizontal noopaque nobox
'

plot startup startup "$BARS"'
set title "Start-up: exec of the init as PID 1 → its child runs (scenario 1, median)"
set ylabel "ms"
plot DATA using 2:xtic(1) title "median" lt 1, "" using 0:4 with lines dt 2 lt 2 title "target: 1.15× the bare Node SEA"'

plot memory rss "$BARS"'
set title "Memory of PID 1 while its child sleeps (scenario 2, median)"
set ylabel "MiB"
plot DATA using 2:xtic(1) title "RssAnon" lt 1, "" using 3 title "VmHWM (peak)" lt 3, "" using 0:4 with lines dt 2 lt 2 title "target: RssAnon ≤ 16 MiB"'

plot scaling-services-time scaling-services '
set title "Services: exec → running, and SIGTERM → PID 1 exit (scenario 14, median)"
set xlabel "services"; set ylabel "ms"; set yrange [0:*]; set xrange [0:*]
plot DATA using 1:2 with linespoints lt 1 title "exec → running", "" using 1:9 with lines dt 2 lt 1 title "linear from the low half", \
     "" using 1:5 with linespoints lt 4 title "SIGTERM → exit", "" using 1:10 with lines dt 2 lt 4 title "linear from the low half"'

plot scaling-services-memory scaling-services '
set title "Services: memory of PID 1 once running (scenario 14, median)"
set xlabel "services"; set ylabel "MiB"; set yrange [0:*]; set xrange [0:*]
plot DATA using 1:6 with linespoints lt 1 title "RssAnon", "" using 1:11 with lines dt 2 lt 1 title "linear from the low half", \
     "" using 1:7 with linespoints lt 3 title "VmHWM (peak)"'

plot scaling-services-write scaling-services '
set title "Services: one status write (status.json and status), by strace (scenario 14, median)"
set xlabel "services"; set ylabel "ms"; set yrange [0:*]; set xrange [0:*]
plot DATA using 1:8 with linespoints lt 1 title "one status write", "" using 1:12 with lines dt 2 lt 2 title "linear from the low half"'

plot scaling-backoff scaling-services-backoff "$BARS"'
set title "Backoff: 'true' written → stop command, and → PID 1 exit (scenario 14, median)"
set ylabel "ms"
plot DATA using 2:xtic(sprintf("%d service%s", $1, $1 == 1 ? "" : "s")) title "→ the stop command starts" lt 1, \
     "" using 3 title "→ PID 1 exits" lt 4, 20 with lines dt 2 lt 2 title "target: 20 ms to the stop command"'

plot scaling-jobs scaling-jobs '
set title "One job run and status.json writes against OTHER jobs'"'"' records (scenario 15, median)"
set xlabel "other jobs'"'"' records in status.json"; set ylabel "ms"; set logscale x; set yrange [0:*]
plot DATA using 1:2 with linespoints lt 1 title "job run, wall", "" using 1:9 with lines dt 2 lt 1 title "target: flat", \
     "" using 1:4 with linespoints lt 4 title "the job'"'"'s record write", "" using 1:10 with lines dt 2 lt 4 title "target: flat", \
     "" using 1:5 with linespoints lt 3 title "PID 1'"'"'s status write", "" using 1:11 with lines dt 2 lt 3 title "target: flat", \
     "" using 1:8 with linespoints dt 3 lt 7 title "floor: replacing status.json, with parse and serialise"'

plot scaling-reports scaling-reports '
set title "Failure reports in logs/: tidying after a failed run (scenario 16, median)"
set xlabel "reports in logs/"; set ylabel "ms"; set yrange [0:*]; set xrange [0:*]
plot DATA using 1:2 with linespoints lt 1 title "steady state (keep = N: one removed)", "" using 1:5 with lines dt 2 lt 1 title "linear from the low half", \
     "" using 1:3 with linespoints lt 4 title "clean-up (keep 100: N − 99 removed)", "" using 1:6 with lines dt 2 lt 4 title "linear from the low half"'

plot scaling-orphans scaling-orphans '
set title "Orphans handed to PID 1 at once: until none is left (scenario 17, median)"
set xlabel "orphans"; set ylabel "ms"; set yrange [0:*]; set xrange [0:*]
plot DATA using 1:2 with linespoints lt 1 title "boxinit", "" using 1:4 with lines dt 2 lt 1 title "linear from the low half", \
     "" using 1:3 with linespoints lt 3 title "tini"'

# The relay (bench/relay.sh): relay.dat rows "LABEL" CPU_S_PER_GB [VMHWM_MIB], the target 3 CPU-s/GB.
plot relay relay "$BARS"'
set title "Relaying services'"'"' output: CPU of the relaying process per GB"
set ylabel "CPU-seconds per GB"
plot DATA using 2:xtic(1) title "CPU-s/GB" lt 1, 3 with lines dt 2 lt 2 title "target: ≤ 3 CPU-s/GB (boxinit)"'
