"""What the bench drivers read of a process in /proc (relay-run.py,
log-files-run.py): its CPU time and its peak resident size."""
import os

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """(user, sys) seconds from /proc/PID/stat; a zombie's still count, its children's do not."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def vm_hwm(pid, last):
    """VmHWM in KiB, or `last` once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return last
