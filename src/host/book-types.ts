// What a book says about one service, once validated (book.ts reads it): the
// seed's Ansible variables, as the host commands use them.

/** One published port: host port `src` to container port `dst`. */
export interface PortMapping {
  src: number;
  dst: number;
  protocol: "tcp" | "udp";
}

/** One bind mount: host path `src` at container path `dst`. */
export interface BindMapping {
  src: string;
  dst: string;
  isReadOnly: boolean;
}

/** Docker's HEALTHCHECK, or "none" to switch the image's off. */
export type Healthcheck =
  | "none"
  | {
      /** ["CMD", ...argv] or ["CMD-SHELL", "string"], as the Engine API takes it. */
      test: string[];
      intervalMs?: number;
      timeoutMs?: number;
      startPeriodMs?: number;
      retries?: number;
    };

/** A book's `kube:` key, for `boxinit host kube` (book-kube.ts reads it). */
export interface KubeSettings {
  /** Kubernetes object names; undefined: the book's name with `_` and `.` as `-`. */
  name?: string;
  /** claim: PersistentVolumeClaims; host: hostPath volumes of the book's own host paths. */
  volumes: "claim" | "host";
  storageClass?: string;
  /** The size of each map's claim (the state directory's is 1Gi); undefined: 10Gi. */
  size?: string;
  /** A batch book: a CronJob on this schedule instead of a Deployment. */
  schedule?: string;
  timeZone?: string;
  startingDeadlineS?: number;
}

export interface Book {
  /** The book file, as given on the command line (for messages). */
  file: string;
  /** Lowercase; the container is `<name>-production`. */
  name: string;
  /** A repository without tag or digest (default: name); boxinit uses :latest, :run and :previous. */
  image: string;
  /**
   * false (default): the image's ENTRYPOINT, `command` is its argument list (CMD).
   * true: `command` replaces the ENTRYPOINT (the seed's `entrypoint: true`).
   * A list: that argv is the ENTRYPOINT and `command` its arguments.
   */
  entrypoint: boolean | string[];
  /** undefined: the image's CMD (only when entrypoint is false). */
  command: string[] | undefined;
  ports: PortMapping[];
  maps: BindMapping[];
  /** Host side of the state directory: status, status.json, backoff, logs/. */
  home: string;
  env: Record<string, string>;
  /** Docker's restart policy as `docker run --restart` spells it; undefined: Docker's default (no). */
  restart: string | undefined;
  healthcheck: Healthcheck | undefined;
  /** `docker run --network`; undefined: Docker's default. */
  network: string | undefined;
  /** `docker run --hostname`; undefined: Docker's default (the container id). */
  hostname: string | undefined;
  /** `docker run --stop-timeout` in seconds: longer than the box's grace; undefined: Docker's 10 s. */
  stopTimeoutS?: number;
  /** `kube:`; undefined: the defaults (claims, a Deployment or StatefulSet). */
  kube?: KubeSettings;
}

export type BookResult = { ok: true; book: Book; warnings: string[] } | { ok: false; errors: string[] };
