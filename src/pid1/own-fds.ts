// Where boxinit's own file descriptors start. Node marks the fds it inherited
// close-on-exec at start (libuv's uv_disable_stdio_inheritance), so the flag
// cannot tell them from its own; but Node's first fd is an epoll instance,
// opened at the lowest free number, so every fd below it was inherited.
import { readdirSync, readlinkSync } from "node:fs";

/** The lowest anon-inode fd (epoll, io_uring, eventfd): where boxinit's own fds start; undefined without /proc. */
export const firstOwnFd = (): number | undefined => {
  let lowest: number | undefined;
  try {
    for (const name of readdirSync("/proc/self/fd")) {
      const fd = Number(name);
      try {
        if (readlinkSync(`/proc/self/fd/${name}`).startsWith("anon_inode:") && (lowest === undefined || fd < lowest)) lowest = fd;
      } catch {
        // closed between readdir and readlink (the readdir's own fd)
      }
    }
  } catch {
    // no /proc: nothing to check against
  }
  return lowest;
};
