// The import rules of src/ (docs/architecture.md), checked by `make lint`
// with dependency-cruiser. Every rule is an error.
//
// Type-only imports count: a cycle made only of `import type` lines is still
// a cycle. dependency-cruiser's option for that, tsPreCompilationDeps, works
// through the TypeScript compiler API, which TypeScript 7 (ours) does not
// offer to tools (dependency-cruiser supports < 7). So TypeScript is parsed
// by swc (@swc/core), which reports type-only imports always (dependency type
// "type-only"); the rule "type-only-imports-are-seen" below fails if a change
// of parser or version ever drops them.

// A path in src/, as a regular expression.
const src = (path) => `^src/${path}`;
// Any of these paths in src/.
const anyOf = (...paths) => `^src/(${paths.join("|")})`;

module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "No import cycle, type-only imports included: every reader and every tool sees one.",
      severity: "error",
      from: { path: src("") },
      to: { circular: true },
    },
    {
      name: "modes-only-from-main",
      comment: "A run is assembled in src/modes/ only: nothing but main.ts and modes/ imports it.",
      severity: "error",
      from: { path: src(""), pathNot: anyOf("modes/", "main\\.ts$") },
      to: { path: src("modes/") },
    },
    {
      name: "cli-only-from-modes",
      comment: "cli/ is argv parsing and usage text: only main.ts and modes/ read it (and cli/ itself).",
      severity: "error",
      from: { path: src(""), pathNot: anyOf("modes/", "cli/", "main\\.ts$") },
      to: { path: src("cli/") },
    },
    {
      name: "cli-not-modes",
      comment: "cli/ parses; it does not run anything.",
      severity: "error",
      from: { path: src("cli/") },
      to: { path: src("modes/") },
    },
    {
      name: "only-addon-loads-node-files",
      comment: "Only src/native/addon.ts loads a .node file (make lint also checks that only it calls process.dlopen).",
      severity: "error",
      from: { pathNot: src("native/addon\\.ts$") },
      to: { path: "\\.node$" },
    },
    {
      name: "leaves-import-no-boxinit",
      comment: "time/, lazy/, native/ and version.ts import nothing of boxinit's own.",
      severity: "error",
      from: { path: anyOf("time/", "lazy/", "native/", "version\\.ts$") },
      to: { path: src(""), pathNot: "^src/$1" },
    },
    {
      name: "log-is-a-leaf",
      comment: "log/ imports only log/, the library loader (pino) and the clock.",
      severity: "error",
      from: { path: src("log/") },
      to: { path: src(""), pathNot: anyOf("log/", "lazy/loader\\.ts$", "time/") },
    },
    {
      name: "pid1-looks-down-only",
      comment: "pid1/ is the process kernel: it imports only pid1/, native/, log/, time/, lazy/ and version.ts.",
      severity: "error",
      from: { path: src("pid1/") },
      to: { path: src(""), pathNot: anyOf("pid1/", "native/", "log/", "time/", "lazy/", "version\\.ts$") },
    },
    {
      name: "shutdown-not-supervisor",
      comment: "shutdown/ stops what it is given (Stoppable); modes/ joins it with supervisor/.",
      severity: "error",
      from: { path: src("shutdown/") },
      to: { path: src("supervisor/") },
    },
    {
      name: "supervisor-not-shutdown",
      comment: "supervisor/ is given what it needs to stop; it does not import shutdown/.",
      severity: "error",
      from: { path: src("supervisor/") },
      to: { path: src("shutdown/") },
    },
    {
      name: "host-not-cli",
      comment: "host/ is the host tool's parts: it imports control/, never cli/ (nor modes/).",
      severity: "error",
      from: { path: src("host/") },
      to: { path: anyOf("cli/", "modes/") },
    },
    {
      name: "config-imports-pure-tables",
      comment: "config/ turns YAML, env and flags into plain data: besides itself it imports only pure tables (the signal table, report names), the library loader (yaml) and the one bounded file read (control/atomic-write.ts).",
      severity: "error",
      from: { path: src("config/") },
      to: {
        path: src(""),
        pathNot: anyOf("config/", "pid1/signals\\.ts$", "jobs/report-name\\.ts$", "lazy/loader\\.ts$", "control/atomic-write\\.ts$"),
      },
    },
    {
      name: "mechanisms-not-above-them",
      comment: "control/, jobs/, supervisor/ and shutdown/ never import host/ (the Docker-host tool sits above them).",
      severity: "error",
      from: { path: anyOf("control/", "jobs/", "supervisor/", "shutdown/", "config/", "log/", "pid1/") },
      to: { path: src("host/") },
    },
  ],
  required: [
    {
      name: "type-only-imports-are-seen",
      comment: "lazy/loader.ts imports ./pino.ts with `import type` only: if the parser stopped reporting type-only imports, this fails (and the cycle check would no longer see them).",
      severity: "error",
      module: { path: src("lazy/loader\\.ts$") },
      to: { path: src("lazy/pino\\.ts$") },
    },
  ],
  options: {
    parser: "swc",
    // false: true asks for the tsc parser, unavailable with TypeScript 7 (see the top); swc sees type-only imports anyway.
    tsPreCompilationDeps: false,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/lazy/not-bundled\\.cjs$" },
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".cjs", ".json"] },
  },
};
