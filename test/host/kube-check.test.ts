// The check host kube runs on its own output before printing it: what the
// types cannot see and the API server would refuse. host kube never
// generates these; the objects here are broken on purpose.
import t from "tap";
import { checkObjects } from "../../src/host/kube-check.ts";
import type { KubeObject } from "../../src/host/kube-types.ts";

const deployment = (pod: object, name = "app"): KubeObject => ({
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name, labels: { "app.kubernetes.io/name": name } },
  spec: { template: { spec: pod } },
});

t.test("a good object: no problems", async (t) => {
  const pod = { containers: [{ name: "app", image: "x", volumeMounts: [{ name: "state", mountPath: "/docker" }], env: [{ name: "A", value: "1" }] }], volumes: [{ name: "state", emptyDir: {} }] };
  t.strictSame(checkObjects([deployment(pod)]), []);
});

t.test("names per kind: a Service and a CronJob are stricter", async (t) => {
  t.strictSame(checkObjects([
    { apiVersion: "v1", kind: "Service", metadata: { name: "9app" } },
    { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: `a${"b".repeat(52)}` } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "App_Control" } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a.b-control" } },
  ]), [
    'Service "9app": not a DNS-1035 label',
    `CronJob "a${"b".repeat(52)}": not a DNS label of at most 52`,
    'ConfigMap "App_Control": not a DNS subdomain',
  ]);
});

t.test("label values, volumes, mounts, variables and ports", async (t) => {
  const pod = {
    containers: [{
      name: "App", image: "reg.example/app:run extra",
      volumeMounts: [{ name: "data", mountPath: "/d" }, { name: "state", mountPath: "/d" }, { name: "state", mountPath: "rel" }],
      env: [{ name: "A=B" }, { name: "X" }, { name: "X" }],
      ports: [{ containerPort: 70000 }],
    }],
    volumes: [{ name: "state" }, { name: "state" }, { name: "Bad_Name" }],
  };
  const object = deployment(pod);
  object.metadata.labels = { tier: "-front" };
  t.strictSame(checkObjects([object]), [
    'Deployment app: label tier: "-front" is not a label value',
    'Deployment app: volume "Bad_Name": not a DNS label',
    'Deployment app: volume "state": named twice',
    'Deployment app: container "App": not a DNS label',
    'Deployment app: container App: image "reg.example/app:run extra": not an image reference',
    'Deployment app: mount of "data": no such volume',
    'Deployment app: mount "rel": not an absolute path',
    'Deployment app: mount path "/d": mounted twice',
    'Deployment app: env "A=B": not a variable name',
    'Deployment app: env "X": set twice',
    "Deployment app: containerPort 70000: not 1-65535",
  ]);
});

t.test("a StatefulSet's claim templates count as volumes; a CronJob's pod is checked too", async (t) => {
  const set: KubeObject = {
    apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db" },
    spec: { template: { spec: { containers: [{ name: "db", image: "db", volumeMounts: [{ name: "data", mountPath: "/var/lib/db" }] }] } }, volumeClaimTemplates: [{ metadata: { name: "data" } }] },
  };
  const cron: KubeObject = {
    apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "nightly" },
    spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "job", image: "job", volumeMounts: [{ name: "gone", mountPath: "/x" }] }] } } } } },
  };
  t.strictSame(checkObjects([set, cron]), ['CronJob nightly: mount of "gone": no such volume']);
});
