#!/usr/bin/env python3
"""Drives a command on a real pseudo-terminal, like a person at a keyboard.

usage: pty-session.py STEPS_JSON -- CMD ARGS...
STEPS_JSON is a list of ["expect", REGEX] and ["send", TEXT] steps. Prints the
whole transcript, then a last line "pty-exit=CODE" (128+N for signal N).
Exits 3 when an expected pattern does not appear within 10 s.
"""
import json
import os
import pty
import re
import select
import sys
import time

def main() -> int:
    sep = sys.argv.index("--")
    steps = json.loads(sys.argv[1])
    command = sys.argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    transcript = b""

    def read_some(timeout: float) -> bool:
        nonlocal transcript
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        transcript += data
        return True

    for kind, value in steps:
        if kind == "send":
            os.write(fd, value.encode())
            continue
        deadline = time.monotonic() + 10
        pattern = re.compile(value.encode(), re.M)
        while not pattern.search(transcript):
            if time.monotonic() > deadline or not read_some(0.1):
                sys.stdout.write(transcript.decode(errors="replace"))
                sys.stdout.write(f"\npty-timeout waiting for {value!r}\n")
                os.kill(pid, 9)
                return 3
    while read_some(0.1):
        pass
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    sys.stdout.write(transcript.decode(errors="replace"))
    sys.stdout.write(f"\npty-exit={code}\n")
    return 0

if __name__ == "__main__":
    sys.exit(main())
