#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal of its own and relays it both ways.

usage: pty-relay.py -- CMD ARGS...
The command leads a new session whose controlling terminal is the pty, as in
a terminal window. What it writes to the terminal comes out on stdout; what
comes in on stdin is typed into the terminal (b"\\x03" is Ctrl-C, b"\\x1a" is
Ctrl-Z). Output post-processing is off (no "\\r\\n" for "\\n") so that tests
can match lines; everything else is the terminal's default (echo, signals
from the keyboard, job control). Ends when the terminal has no writer left,
then prints "pty-exit=CODE" and exits with CODE (128+N for signal N).
"""
import os
import pty
import select
import signal
import sys
import termios


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        # Python ignores these two for itself; the command gets the defaults.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        attrs = termios.tcgetattr(0)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(0, termios.TCSANOW, attrs)
        os.execvp(command[0], command)
    inputs = [fd, 0]
    while True:
        ready, _, _ = select.select(inputs, [], [])
        if 0 in ready:
            data = os.read(0, 4096)
            if data:
                os.write(fd, data)
            else:
                inputs.remove(0)
        if fd in ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: every writer of the terminal is gone
                data = b""
            if not data:
                break
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    code = code if code >= 0 else 128 - code
    sys.stdout.write(f"\npty-exit={code}\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
