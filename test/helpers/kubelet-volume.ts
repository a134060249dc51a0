// A ConfigMap volume laid out on the host the way the kubelet lays it out
// (Kubernetes' AtomicWriter): the files live in a timestamped directory
// `..TIMESTAMP/`, `..data` is a symlink to it, and each key is a symlink
// `KEY -> ..data/KEY`. An update writes a new `..TIMESTAMP/`, points a
// `..data_tmp` symlink at it, renames that over `..data` (the one atomic
// step a watcher sees), then removes the old directory. podman mounts
// ConfigMaps as plain files, so the kube tests mount this directory with
// hostPath and update it here.
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp-dir.ts";

export interface KubeletVolume {
  /** The host directory to mount. */
  path: string;
  /** The timestamped directories written so far, oldest first (the last one is live). */
  generations: string[];
  /** A kubelet update: the keys' new contents, made visible by one rename over ..data. */
  update(files: Record<string, string>): void;
}

// The kubelet's name: ..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN; the counter keeps two updates in one ms apart.
let counter = 0;
const generationName = (): string => {
  const stamp = new Date().toISOString().replace(/[-T:]/g, "_").replace(/\.(\d+)Z$/, ".$1");
  return `..${stamp}${String(counter++).padStart(6, "0")}`;
};

const writeGeneration = (root: string, files: Record<string, string>): string => {
  const name = generationName();
  mkdirSync(join(root, name), { mode: 0o755 });
  for (const [key, content] of Object.entries(files)) writeFileSync(join(root, name, key), content, { mode: 0o644 });
  return name;
};

/** A fresh kubelet-style ConfigMap directory holding files; removed in teardown. */
export const makeKubeletVolume = (t: { teardown(fn: () => void): void }, files: Record<string, string>): KubeletVolume => {
  const path = tempDir(t, "boxinit-kubelet-volume-");
  const first = writeGeneration(path, files);
  symlinkSync(first, join(path, "..data"));
  for (const key of Object.keys(files)) symlinkSync(join("..data", key), join(path, key));
  const generations = [first];
  return {
    path,
    generations,
    update(next) {
      const name = writeGeneration(path, next);
      symlinkSync(name, join(path, "..data_tmp"));
      renameSync(join(path, "..data_tmp"), join(path, "..data"));
      for (const key of Object.keys(next)) {
        try {
          symlinkSync(join("..data", key), join(path, key));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
      }
      rmSync(join(path, generations.at(-1)!), { recursive: true, force: true });
      generations.push(name);
    },
  };
};
