// The one entry of a tar stream that the engine's archive call returns for a
// single path (GET /containers/ID/archive): a regular file's bytes, or where
// a symbolic link points. Pure; only the ustar fields needed are read, and
// PAX/GNU extension headers are skipped.
const BLOCK = 512;

export type TarEntry = { kind: "file"; bytes: Buffer } | { kind: "symlink"; target: string } | { kind: "other"; type: string };

const field = (block: Buffer, offset: number, length: number): string => {
  const bytes = block.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? length : end).toString("utf8");
};

/** The size field: octal text (base-256 for sizes past 8 GiB, which no config reaches: refused). */
const sizeOf = (block: Buffer): number => {
  if ((block[124]! & 0x80) !== 0) throw new Error("tar: a file over 8 GiB");
  const size = Number.parseInt(field(block, 124, 12).trim() || "0", 8);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error("tar: a broken size field");
  return size;
};

// PAX headers (x, g) and GNU long names (L, K) describe the next entry.
const EXTENSION_TYPES = new Set(["x", "g", "L", "K"]);

/** The first real entry of a tar archive; a truncated or empty archive throws. */
export const firstTarEntry = (archive: Buffer): TarEntry => {
  for (let offset = 0; offset + BLOCK <= archive.length;) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) break;
    const size = sizeOf(block);
    const type = String.fromCharCode(block[156]!);
    const dataStart = offset + BLOCK;
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (EXTENSION_TYPES.has(type)) continue;
    if (type === "0" || type === "\0") {
      if (dataStart + size > archive.length) throw new Error("tar: the archive ends inside the file");
      return { kind: "file", bytes: Buffer.from(archive.subarray(dataStart, dataStart + size)) };
    }
    if (type === "2") return { kind: "symlink", target: field(block, 157, 100) };
    return { kind: "other", type };
  }
  throw new Error("tar: no entry in the archive");
};
