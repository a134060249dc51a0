#!/usr/bin/env python3
"""One run of bench/relay.sh: two writers, each BYTES of 100-character lines
(`yes LINE | head -c BYTES`), relayed by RELAY to stdout, which is /dev/null
or a pipe read by `cat >/dev/null`. Prints "cpu_seconds vmhwm_kib user sys" of
the relay process alone (user+sys from /proc/PID/stat, read while it is a zombie,
so its children's times are not in it; VmHWM sampled while it runs).

    relay-run.py RELAY OUT BYTES WORKDIR [BOXINIT]
    RELAY: boxinit | supervisord | cat      OUT: devnull | pipe

boxinit: a Mini-VM config with the two writers as services (restart: no); it
exits once both have ended and their output is relayed. supervisord: the two
writers as programs with stdout_logfile=/dev/stdout, stdout_logfile_maxbytes=0
(as it is run in containers); it does not exit by itself, so its CPU is read
once its log says both programs exited (and 1.2 s later: its loop reads
their pipes' last bytes within a turn), then it gets SIGTERM. cat: the two writers into one pipe that cat copies.
"""
import os
import signal
import subprocess
import sys
import time

from procstat import cpu_seconds, vm_hwm

LINE_CHARS = 99  # + "\n": 100-byte lines


def writer(name, size):
    return f"yes {name * LINE_CHARS} | head -c {size}"


stat_cpu = cpu_seconds  # (user, sys) of PID 1


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().split()
    except OSError:
        return []


def open_out(out):
    """stdout for the relay, and the reader process when it is a pipe."""
    if out == "devnull":
        return os.open("/dev/null", os.O_WRONLY), None
    read_end, write_end = os.pipe()
    reader = subprocess.Popen(["cat"], stdin=read_end, stdout=subprocess.DEVNULL)
    os.close(read_end)
    return write_end, reader


def wait_exit(pid, hwm):
    """Sample VmHWM until pid exits; returns (cpu of the zombie, hwm), then reaps it."""
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        hwm = vm_hwm(pid, hwm)
        time.sleep(0.02)
    cpu = stat_cpu(pid)
    os.waitpid(pid, 0)
    return cpu, hwm


def run_boxinit(binary, out_fd, size, work):
    state = os.path.join(work, "state")
    os.makedirs(state, exist_ok=True)
    config = os.path.join(work, "boxinit.yaml")
    with open(config, "w") as f:
        f.write(f"state_dir: {state}\ninit_dir: {work}/none\nfinish_dir: {work}/none\nservices:\n")
        for name in "ab":
            f.write(f"  {name}:\n    command: \"{writer(name, size)}\"\n    restart: \"no\"\n")
    with open(os.path.join(work, "boxinit.log"), "w") as log:
        child = subprocess.Popen([binary, "-q", "--config", config], stdin=subprocess.DEVNULL, stdout=out_fd, stderr=log)
    return wait_exit(child.pid, 0)


def run_supervisord(out_fd, size, work):
    config = os.path.join(work, "supervisord.conf")
    open(os.path.join(work, "supervisord.log"), "w").close()
    with open(config, "w") as f:
        f.write(f"[supervisord]\nnodaemon=true\nuser=root\nlogfile={work}/supervisord.log\n"
                f"pidfile={work}/supervisord.pid\nchildlogdir={work}\nloglevel=info\n")
        for name in "ab":
            f.write(f"[program:{name}]\ncommand=sh -c '{writer(name, size)}'\nautorestart=false\nstartsecs=0\n"
                    "stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n"
                    "stderr_logfile=/dev/stderr\nstderr_logfile_maxbytes=0\n")
    child = subprocess.Popen(["supervisord", "-c", config], stdin=subprocess.DEVNULL, stdout=out_fd, stderr=subprocess.DEVNULL)
    # Its log says when each program has exited (a child list can be empty
    # before the first poll sees one: 0-byte writers are gone at once).
    hwm, log = 0, os.path.join(work, "supervisord.log")
    while True:
        hwm = vm_hwm(child.pid, hwm)
        with open(log, errors="replace") as f:
            text = f.read()
        if "exited: a " in text and "exited: b " in text and not children(child.pid):
            break
        time.sleep(0.02)
    # Its loop reaps and reads the pipes' last bytes within one turn (1 s select timeout at most).
    time.sleep(1.2)
    cpu = stat_cpu(child.pid)
    child.send_signal(signal.SIGTERM)
    child.wait()
    return cpu, hwm


def run_cat(out_fd, size):
    read_end, write_end = os.pipe()
    writers = [subprocess.Popen(["sh", "-c", writer(name, size)], stdout=write_end) for name in "ab"]
    os.close(write_end)
    cat = subprocess.Popen(["cat"], stdin=read_end, stdout=out_fd)
    os.close(read_end)
    cpu, hwm = wait_exit(cat.pid, 0)
    for w in writers:
        w.wait()
    return cpu, hwm


def main():
    relay, out, size, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    out_fd, reader = open_out(out)
    if relay == "boxinit":
        cpu, hwm = run_boxinit(sys.argv[5], out_fd, size, work)
    elif relay == "supervisord":
        cpu, hwm = run_supervisord(out_fd, size, work)
    else:
        cpu, hwm = run_cat(out_fd, size)
    os.close(out_fd)
    if reader:
        reader.wait()
    print(f"{cpu[0] + cpu[1]:.2f} {hwm} {cpu[0]:.2f} {cpu[1]:.2f}")


if __name__ == "__main__":
    main()
