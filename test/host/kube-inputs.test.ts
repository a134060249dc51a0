// What host kube gathers before generating, over a fake engine (the real one
// is test/e2e/host-kube.test.ts): the pinned image, files read out of the
// image through a container that is removed again, the box's config loaded
// as the container would load it, the image's user; and the tar reader and
// --out DIR on their own.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import t from "tap";
import type { Engine } from "../../src/host/engine.ts";
import { pinRunImage } from "../../src/host/kube-image.ts";
import { gatherKubeInputs } from "../../src/host/kube-inputs.ts";
import { firstTarEntry } from "../../src/host/kube-tar.ts";
import { writeKubeFiles } from "../../src/host/kube-yaml.ts";
import { kubeManifests } from "../../src/host/kube-manifests.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { CONFLUENCE_BOOK, CONFLUENCE_CONFIG, FIXTURES, PROBE_CONFIG, bookOf, bookOfText } from "../helpers/kube-inputs.ts";

/** A tar archive of `files` (path inside → contents, or {link}) made by GNU tar, as the engine sends one path. */
const tarOf = (t: { teardown(fn: () => void): void }, name: string, entry: string | { link: string }, format = "gnu"): Buffer => {
  const dir = tempDir(t);
  if (typeof entry === "string") writeFileSync(join(dir, name), entry);
  else symlinkSync(entry.link, join(dir, name));
  return execFileSync("tar", ["-c", `--format=${format}`, "-C", dir, name]);
};

interface FakeImage {
  Id: string;
  RepoDigests?: string[];
  Config?: { User?: string; Env?: string[] };
  /** Path in the image → archive of it (as getArchive answers). */
  files: Record<string, Buffer>;
}

/** An engine that knows some images; records containers created and removed. */
const fakeEngine = (images: Record<string, FakeImage>) => {
  const log: string[] = [];
  const byRef = (ref: string) => images[ref] ?? Object.values(images).find((image) => image.Id === ref);
  const docker = {
    getImage: (ref: string) => ({
      inspect: async () => {
        const image = byRef(ref);
        if (image === undefined) throw Object.assign(new Error("no such image"), { statusCode: 404 });
        return image;
      },
    }),
    createContainer: async (options: { Image: string; Entrypoint: string[] }) => {
      log.push(`create ${options.Image} ${options.Entrypoint.join(" ")}`);
      const image = byRef(options.Image)!;
      return {
        getArchive: async ({ path }: { path: string }) => {
          log.push(`read ${path}`);
          const archive = image.files[path];
          if (archive === undefined) throw Object.assign(new Error("not found"), { statusCode: 404 });
          return Readable.from([archive]);
        },
        remove: async () => {
          log.push("remove");
        },
      };
    },
  };
  return { engine: { docker, env: {} } as unknown as Engine, log };
};

const passwdAndGroup = (t: { teardown(fn: () => void): void }) => ({
  "/etc/passwd": tarOf(t, "passwd", readFileSync(join(FIXTURES, "kube/passwd"), "utf8")),
  "/etc/group": tarOf(t, "group", readFileSync(join(FIXTURES, "kube/group"), "utf8")),
});

const noEngine = async (): Promise<Engine> => {
  throw new Error("the engine was asked");
};

t.test("the tar reader: a file, a symbolic link, PAX headers skipped, broken archives refused", async (t) => {
  t.strictSame(firstTarEntry(tarOf(t, "boxinit.yaml", "grace: 9s\n")), { kind: "file", bytes: Buffer.from("grace: 9s\n") });
  t.strictSame(firstTarEntry(tarOf(t, "boxinit.yaml", { link: "../conf/box.yaml" })), { kind: "symlink", target: "../conf/box.yaml" });
  const longName = `${"n".repeat(120)}.yaml`;
  t.strictSame(firstTarEntry(tarOf(t, longName, "x: 1\n", "pax")), { kind: "file", bytes: Buffer.from("x: 1\n") }, "a PAX header first");
  t.strictSame(firstTarEntry(tarOf(t, longName, "x: 1\n", "gnu")), { kind: "file", bytes: Buffer.from("x: 1\n") }, "a GNU long name first");
  const archive = tarOf(t, "big", "y".repeat(2000));
  t.throws(() => firstTarEntry(archive.subarray(0, 1024)), /the archive ends inside the file/);
  t.throws(() => firstTarEntry(Buffer.alloc(1024)), /no entry in the archive/);
});

t.test("the pinned image: the registry digest of the book's repository, else the tag never pulled", async (t) => {
  const book = await bookOf(CONFLUENCE_BOOK);
  const digest = "boxinit/confluence@sha256:" + "a".repeat(64);
  const pushed = fakeEngine({ "boxinit/confluence:run": { Id: "sha256:1", RepoDigests: ["mirror.example/x@sha256:" + "b".repeat(64), digest], files: {} } });
  t.match(await pinRunImage(pushed.engine, book), { image: { ref: digest, pullPolicy: "IfNotPresent", id: "sha256:1" }, note: "image: boxinit/confluence:run pinned to its registry digest" });
  const local = fakeEngine({ "boxinit/confluence:run": { Id: "sha256:2", files: {} } });
  t.match(await pinRunImage(local.engine, book), { image: { ref: "boxinit/confluence:run", pullPolicy: "Never", id: "sha256:2" }, note: /no registry digest \(never pushed\)/ });
  const none = fakeEngine({});
  await t.rejects(pinRunImage(none.engine, book), { exitCode: 12, message: "image boxinit/confluence:run not found", hint: /boxinit host promote .*, or name it with --image REF/ });
});

t.test("the box's config out of the image, users from the image's tables; the container removed", async (t) => {
  const { engine, log } = fakeEngine({
    "boxinit/confluence:run": { Id: "sha256:c", Config: { User: "" }, files: { "/etc/boxinit/boxinit.yaml": tarOf(t, "boxinit.yaml", readFileSync(CONFLUENCE_CONFIG, "utf8")), ...passwdAndGroup(t) } },
  });
  const result = await gatherKubeInputs(await bookOf(CONFLUENCE_BOOK), {}, async () => engine);
  if (!result.ok) throw new Error(result.errors.join("\n"));
  t.equal(result.inputs.config.services[0]!.user!.uid, 2002, "confluence, from the image's /etc/passwd");
  t.strictSame(result.inputs.imageUser, { kind: "root" });
  t.strictSame(result.notes.slice(1), ["box config: boxinit/confluence:run:/etc/boxinit/boxinit.yaml"]);
  t.strictSame(log, ["create sha256:c /boxinit-host-kube-never-started", "read /etc/boxinit/boxinit.yaml", "read /etc/passwd", "read /etc/group", "remove"]);
});

t.test("the image's ENV and the book's env apply as in the container: BOXINIT_CONFIG, BOXINIT_GRACE", async (t) => {
  const config = tarOf(t, "box.yaml", "grace: 20s\n");
  const { engine } = fakeEngine({
    "app:run": { Id: "sha256:e", Config: { User: "app", Env: ["BOXINIT_CONFIG=/opt/box.yaml", "PATH=/bin"] }, files: { "/opt/box.yaml": config, ...passwdAndGroup(t) } },
  });
  const book = await bookOfText("name: app\nhome: /srv/app\n");
  const result = await gatherKubeInputs(book, {}, async () => engine);
  if (!result.ok) throw new Error(result.errors.join("\n"));
  t.equal(result.inputs.config.graceMs, 20_000);
  t.strictSame(result.inputs.imageUser, { kind: "non-root", uid: 1000, gid: 1000 }, "USER app from the image's passwd");
  const overridden = await gatherKubeInputs(await bookOfText("name: app\nhome: /srv/app\nenv: {BOXINIT_GRACE: 40s}"), {}, async () => engine);
  t.equal(overridden.ok && overridden.inputs.config.graceMs, 40_000, "the book's env wins over the file");
});

t.test("--config FILE in the book's argv names the config read from the image, before BOXINIT_CONFIG (as boxinit decides)", async (t) => {
  const { engine } = fakeEngine({
    "app:run": {
      Id: "sha256:f", Config: { User: "app", Env: ["BOXINIT_CONFIG=/opt/other.yaml"] },
      files: { "/srv/box.yaml": tarOf(t, "box.yaml", "grace: 25s\n"), "/opt/other.yaml": tarOf(t, "other.yaml", "grace: 3s\n"), ...passwdAndGroup(t) },
    },
  });
  const book = await bookOfText("name: app\nhome: /srv/app\nentrypoint: [/sbin/boxinit, --config, /srv/box.yaml, --]\ncommand: [app]\n");
  const result = await gatherKubeInputs(book, {}, async () => engine);
  if (!result.ok) throw new Error(result.errors.join("\n"));
  t.equal(result.inputs.config.graceMs, 25_000, "the file --config names");
});

t.test("a symbolic link to the config is followed inside the image; a missing config is the defaults", async (t) => {
  const { engine, log } = fakeEngine({
    "app:run": { Id: "sha256:l", files: { "/etc/boxinit/boxinit.yaml": tarOf(t, "boxinit.yaml", { link: "../../srv/box.yaml" }), "/srv/box.yaml": tarOf(t, "box.yaml", "grace: 3s\n") } },
  });
  const result = await gatherKubeInputs(await bookOfText("name: app\nhome: /srv/app\n"), {}, async () => engine);
  t.equal(result.ok && result.inputs.config.graceMs, 3000);
  t.ok(log.includes("read /srv/box.yaml"));
  const bare = fakeEngine({ "app:run": { Id: "sha256:b", Config: { User: "ghost" }, files: {} } });
  const defaults = await gatherKubeInputs(await bookOfText("name: app\nhome: /srv/app\n"), {}, async () => bare.engine);
  if (!defaults.ok) throw new Error(defaults.errors.join("\n"));
  t.equal(defaults.inputs.config.graceMs, 9000);
  t.match(defaults.notes, [/./, /none in the image/]);
  t.match(defaults.inputs.imageUser, { kind: "unknown", why: /USER "ghost": no such user "ghost"/ });
});

t.test("the box's config problems are reported with where it came from", async (t) => {
  const { engine } = fakeEngine({ "app:run": { Id: "sha256:x", files: { "/etc/boxinit/boxinit.yaml": tarOf(t, "boxinit.yaml", "grace: often\n") } } });
  const result = await gatherKubeInputs(await bookOfText("name: app\nhome: /srv/app\n"), {}, async () => engine);
  t.strictSame(!result.ok && result.errors, ['box config: grace: expected a duration such as 250ms, 9s, 5m, got "often"']);
});

t.test("--image and --config: the engine is not asked, users named in the config get placeholders", async (t) => {
  const result = await gatherKubeInputs(await bookOf(CONFLUENCE_BOOK), { imageRef: "registry.example/c@sha256:" + "c".repeat(64), configPath: CONFLUENCE_CONFIG }, noEngine);
  if (!result.ok) throw new Error(result.errors.join("\n"));
  t.equal(result.inputs.image.ref, "registry.example/c@sha256:" + "c".repeat(64));
  t.match(result.inputs.imageUser, { kind: "unknown" });
  t.equal(result.inputs.config.services[0]!.user!.name, "confluence");
  await t.rejects(gatherKubeInputs(await bookOf(CONFLUENCE_BOOK), { imageRef: "x", configPath: "/nonexistent/box.yaml" }, noEngine), /--config \/nonexistent\/box.yaml: cannot read the box's config/);
});

t.test("--out DIR: one file per object, named in the order to apply them; an earlier run's others removed, nothing else", async (t) => {
  const objectsOf = async (bookText: string) => {
    const result = await gatherKubeInputs(await bookOfText(bookText), { imageRef: "app@sha256:" + "d".repeat(64), configPath: PROBE_CONFIG }, noEngine);
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const manifests = kubeManifests(result.inputs);
    if (!manifests.ok) throw new Error(manifests.errors.join("\n"));
    return manifests.objects;
  };
  const dir = join(tempDir(t), "out", "deep");
  const first = await writeKubeFiles(dir, await objectsOf("name: app\nhome: /srv/app\nport: [{src: 80, dst: 8080}]"), ["boxinit host kube app.book.yaml", "one note"]);
  const names = ["01-configmap-app-control.yaml", "02-persistentvolumeclaim-app-state.yaml", "03-service-app.yaml", "04-deployment-app.yaml"];
  t.strictSame(readdirSync(dir).sort(), names);
  t.strictSame(first, { written: names.map((name) => join(dir, name)), removed: [] });
  t.match(readFileSync(join(dir, names[0]!), "utf8"), /^# boxinit host kube app.book.yaml\n# one note\napiVersion: "v1"\nkind: "ConfigMap"\n/);
  writeFileSync(join(dir, "05-secret-mine.yaml"), "# my own\n");
  writeFileSync(join(dir, "notes.txt"), "mine\n");
  const second = await writeKubeFiles(dir, await objectsOf("name: app\nhome: /srv/app\nkube: {volumes: host}"), ["boxinit host kube app.book.yaml"]);
  t.strictSame(second.removed.map((file) => file.slice(dir.length + 1)).sort(), ["02-persistentvolumeclaim-app-state.yaml", "03-service-app.yaml", "04-deployment-app.yaml"],
    "the claim and the Service are gone (hostPath, no port); the Deployment is now 02");
  t.strictSame(readdirSync(dir).sort(), ["01-configmap-app-control.yaml", "02-deployment-app.yaml", "05-secret-mine.yaml", "notes.txt"]);
});
