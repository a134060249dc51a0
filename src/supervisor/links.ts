// `links:` from the config: symlinks made before services start, like the
// seed's `ln -sf /docker/server.xml .../conf/server.xml`, but atomic: the new
// link is made beside the old path and renamed over it.
import { mkdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "../log/logger.ts";

/** Make every link; returns the problems (empty when all were made). */
export const makeLinks = (links: ReadonlyArray<{ link: string; target: string }>, log: Logger): string[] => {
  const problems: string[] = [];
  for (const { link, target } of links) {
    const temporary = `${link}.boxinit-${process.pid}`;
    try {
      mkdirSync(dirname(link), { recursive: true });
      rmSync(temporary, { force: true });
      symlinkSync(target, temporary);
      // rename replaces a file or a symlink at `link`; a directory there fails (EISDIR), as it should.
      renameSync(temporary, link);
      log.info("link", `linked ${link} -> ${target}`);
    } catch (error) {
      rmSync(temporary, { force: true });
      problems.push(`links: ${link} -> ${target}: ${(error as Error).message}`);
    }
  }
  return problems;
};
