#!/usr/bin/env python3
"""The relay's cost with and without service log files (issue 18): boxinit in
Mini-VM mode with two services, each writing BYTES of 100-byte lines
(`yes LINE | head -c BYTES`), stdout to /dev/null, the state directory in
WORKDIR. Prints one table row per case: boxinit's own CPU seconds per GB
relayed (user+sys from /proc/PID/stat, read while it is a zombie, so the
writers' times are not in it) and its VmHWM.

    log-files-run.py BOXINIT BYTES WORKDIR

Cases: no log files (the relay alone, prefixed: two services), log files with
timestamps, log files without timestamps, and one service alone with its log
file (relayed unprefixed only for the file).
"""
import os
import shutil
import subprocess
import sys
import time

from procstat import cpu_seconds, vm_hwm



def stat_cpu(pid):
    return sum(cpu_seconds(pid))


def run(binary, work, names, size, log_files):
    shutil.rmtree(work, ignore_errors=True)
    state = os.path.join(work, "state")
    os.makedirs(state)
    config = os.path.join(work, "boxinit.yaml")
    with open(config, "w") as f:
        f.write(f"state_dir: {state}\ninit_dir: {work}/none\nfinish_dir: {work}/none\n{log_files}services:\n")
        for name in names:
            f.write(f"  {name}:\n    command: \"yes {name * 99} | head -c {size}\"\n    restart: \"no\"\n")
    out = os.open("/dev/null", os.O_WRONLY)
    with open(os.path.join(work, "boxinit.log"), "w") as log:
        child = subprocess.Popen([binary, "-q", "--config", config], stdin=subprocess.DEVNULL, stdout=out, stderr=log)
    os.close(out)
    hwm = 0
    while os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        hwm = vm_hwm(child.pid, hwm)
        time.sleep(0.02)
    cpu = stat_cpu(child.pid)
    child.wait()
    return cpu / (size * len(names) / 1024**3), hwm


def main():
    binary, size, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cases = [
        ("two services, no log files", "ab", ""),
        ("two services, log files, timestamps", "ab", "log_files: {max_size: 10MiB, keep: 5}\n"),
        ("two services, log files, no timestamps", "ab", "log_files: {max_size: 10MiB, keep: 5, timestamps: false}\n"),
        ("one service, log file, timestamps", "a", "log_files: {max_size: 10MiB, keep: 5}\n"),
    ]
    print("| case | CPU-s/GB | VmHWM MiB |")
    print("|---|---|---|")
    for label, names, log_files in cases:
        per_gb, hwm = run(binary, work, names, size, log_files)
        print(f"| {label} | {per_gb:.2f} | {hwm / 1024:.0f} |", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
