// The built addon (dist/boxinit.node) for tests that call it directly, and
// the two things such a test needs for a child the addon forked: its exit
// status (reaped by pid: the child is the addon's, not libuv's) and what it
// wrote to a pipe.
import { join } from "node:path";
import { loadNative, type Native } from "../../src/native/addon.ts";
import { ROOT } from "./boxinit.ts";

export const ADDON = join(ROOT, "dist/boxinit.node");

/** The addon, or a throw naming why it did not load (run make). */
export const loadAddon = (): Native => {
  const { native, failures } = loadNative({ BOXINIT_ADDON: ADDON });
  if (!native) throw new Error(`addon did not load: ${failures.join("; ")}`);
  return native;
};

/** The wait status of the addon's child pid, polling with a deadline. */
export const reapWithin = async (native: Native, pid: number, timeoutMs = 5000): Promise<number> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = native.reap(pid);
    if (status !== undefined) return status;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`pid ${pid} did not exit within ${timeoutMs} ms`);
};

/** Everything written to the pipe's read end fd, until EOF. */
export const readPipe = async (fd: number): Promise<string> => {
  const net = await import("node:net");
  const socket = new net.Socket({ fd, readable: true, writable: false });
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (text += chunk));
  await new Promise((resolve) => socket.once("end", resolve));
  return text;
};
