// The book's `kube:` key: read strictly, every problem at once with its path,
// as the book's other keys are.
import t from "tap";
import { readBook } from "../../src/host/book.ts";
import type { BookResult } from "../../src/host/book-types.ts";
import { parseYamlText } from "../../src/config/yaml-text.ts";

const read = async (kube: string): Promise<BookResult> => {
  const parsed = await parseYamlText(`name: app\nhome: /srv/app\nkube: ${kube}\n`, "t.book.yaml");
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  return readBook(parsed.value, "t.book.yaml");
};

const errors = async (kube: string): Promise<string[]> => {
  const result = await read(kube);
  return result.ok ? [] : result.errors.map((line) => line.replace(/^t\.book\.yaml: /, ""));
};

t.test("no kube: key, or an empty map: the defaults", async (t) => {
  const parsed = await parseYamlText("name: app\nhome: /srv/app\n", "t.book.yaml");
  const result = readBook(parsed.ok ? parsed.value : null, "t.book.yaml");
  t.equal(result.ok && result.book.kube, undefined);
  const empty = await read("{}");
  t.strictSame(empty.ok && empty.book.kube, { volumes: "claim" });
});

t.test("every key read", async (t) => {
  const result = await read('{name: wiki, volumes: claim, storage_class: fast.ssd, size: 500Mi, schedule: "0 3 * * 1-5", timezone: Europe/Berlin, starting_deadline: 10m}');
  t.strictSame(result.ok && result.book.kube, {
    volumes: "claim", name: "wiki", storageClass: "fast.ssd", size: "500Mi", schedule: "0 3 * * 1-5", timeZone: "Europe/Berlin", startingDeadlineS: 600,
  });
  const macro = await read("{schedule: \"@daily\", volumes: host}");
  t.strictSame(macro.ok && macro.book.kube, { volumes: "host", schedule: "@daily" });
});

t.test("bad values, each with its path and what was expected", async (t) => {
  t.strictSame(await errors("[claim]"), ["kube: expected a map with name, volumes, storage_class, size, schedule, timezone, starting_deadline, got a list"]);
  t.strictSame(await errors("{volumes: pvc}"), ['kube.volumes: expected claim|host, got "pvc"']);
  t.strictSame(await errors("{name: Wiki_1}"), ['kube.name: expected a Kubernetes name: lowercase letters, digits and -, starting with a letter, not ending with -, at most 52, got "Wiki_1"']);
  t.strictSame(await errors(`{name: a${"b".repeat(52)}}`), [`kube.name: expected a Kubernetes name: lowercase letters, digits and -, starting with a letter, not ending with -, at most 52, got "a${"b".repeat(52)}"`]);
  t.strictSame(await errors("{size: 10GB}"), ['kube.size: expected a storage size such as 500Mi or 10Gi, got "10GB"']);
  t.strictSame(await errors("{storage_class: Fast_SSD}"), ['kube.storage_class: expected a StorageClass name (lowercase letters, digits, - and .), got "Fast_SSD"']);
  const cron = 'a cron schedule of five fields such as "0 3 * * *", or @daily, @hourly, ...';
  t.strictSame(await errors('{schedule: "0 0 3 * * *"}'), [`kube.schedule: expected ${cron}, got "0 0 3 * * *"`], "no seconds field in a CronJob");
  t.strictSame(await errors("{schedule: \"@sometimes\"}"), [`kube.schedule: expected ${cron}, got "@sometimes"`]);
  t.strictSame(await errors('{schedule: "@daily", timezone: Mars/Olympus}'), ['kube.timezone: expected an IANA time zone such as Europe/Berlin, got "Mars/Olympus"']);
  t.strictSame(await errors('{schedule: "@daily", starting_deadline: 1500ms}'), ['kube.starting_deadline: expected whole seconds, such as 5m or 90s, got "1500ms"']);
});

t.test("unknown keys and schedule-only keys without a schedule; all at once", async (t) => {
  t.strictSame(await errors("{volume: host, timezone: UTC, starting_deadline: 1m}"), [
    'kube.volume: unknown key (did you mean "volumes"?)',
    "kube.timezone: only goes with kube.schedule (a batch book's CronJob)",
    "kube.starting_deadline: only goes with kube.schedule (a batch book's CronJob)",
  ]);
});

t.test("storage_class and size with hostPath volumes: a warning, not an error", async (t) => {
  const result = await read("{volumes: host, size: 1Gi}");
  t.strictSame(result.ok && result.warnings, ["t.book.yaml: kube.storage_class and kube.size: ignored with kube.volumes host (hostPath volumes are the node's directories)"]);
});
