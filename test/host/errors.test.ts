import t from "tap";
import { classifyEngineError, engineAddress, engineMessage, formatHostError, HOST_EXIT, HostError } from "../../src/host/errors.ts";

const NO_ENV = {};
const ACTION = { what: "create app-production", env: NO_ENV };

/** A socket error as Node gives it: an Error with an errno code. */
const socketError = (code: string, syscall = "connect", address = "/var/run/docker.sock"): Error =>
  Object.assign(new Error(`${syscall} ${code} ${address}`), { code, errno: -1, syscall, address });

/** An HTTP error as docker-modem gives it: its own text, the status, and the engine's JSON. */
const httpError = (statusCode: number, message: string): Error =>
  Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode, reason: "unexpected", json: { message } });

const NAME_TAKEN = 'Conflict. The container name "/app-production" is already in use by container "abc123". '
  + "You have to remove (or rename) that container to be able to reuse that name.";
const PORT_ALLOCATED = "driver failed programming external connectivity on endpoint app-production (4f2c): "
  + "Bind for 0.0.0.0:8090 failed: port is already allocated";
const ADDRESS_IN_USE = "driver failed programming external connectivity on endpoint app-production (4f2c): "
  + "Error starting userland proxy: listen tcp4 0.0.0.0:8090: bind: address already in use";

t.test("no engine at the address: exit 10, naming the address", async (t) => {
  for (const code of ["ECONNREFUSED", "ENOENT"]) {
    const error = classifyEngineError(socketError(code), ACTION);
    t.equal(error.exitCode, HOST_EXIT.noEngine, code);
    t.equal(error.message, `create app-production: no Docker engine answers at unix:///var/run/docker.sock (${code})`);
    t.equal(error.hint, "start dockerd, or point DOCKER_HOST at the engine");
  }
  const remote = classifyEngineError(socketError("ECONNREFUSED", "connect", "10.0.0.9:2375"), { what: "inspect container app-production", env: { DOCKER_HOST: "tcp://10.0.0.9:2375" } });
  t.equal(remote.message, "inspect container app-production: no Docker engine answers at tcp://10.0.0.9:2375 (ECONNREFUSED)", "DOCKER_HOST, when set, is the address");
  for (const code of ["ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT"]) {
    t.equal(classifyEngineError(socketError(code), ACTION).exitCode, HOST_EXIT.noEngine, code);
  }
});

t.test("the engine's address for messages", async (t) => {
  t.equal(engineAddress({}), "unix:///var/run/docker.sock");
  t.equal(engineAddress({ DOCKER_HOST: "" }), "unix:///var/run/docker.sock", "an empty DOCKER_HOST is docker's default too");
  t.equal(engineAddress({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" }), "unix:///run/user/1000/docker.sock");
});

t.test("permission denied on the socket: exit 11", async (t) => {
  for (const code of ["EACCES", "EPERM"]) {
    const error = classifyEngineError(socketError(code), ACTION);
    t.equal(error.exitCode, HOST_EXIT.permissionDenied, code);
    t.equal(error.message, "create app-production: permission denied on the Docker socket unix:///var/run/docker.sock");
    t.equal(error.hint, "run as root, or add this user to the docker group (and log in again)");
  }
});

t.test("no such image: exit 12", async (t) => {
  const error = classifyEngineError(httpError(404, "No such image: app:run"), ACTION);
  t.equal(error.exitCode, HOST_EXIT.imageNotFound);
  t.equal(error.message, "create app-production: No such image: app:run");
  t.equal(error.hint, "build the image and run `boxinit host promote BOOK`");
});

t.test("the container name is taken: exit 13", async (t) => {
  const error = classifyEngineError(httpError(409, NAME_TAKEN), ACTION);
  t.equal(error.exitCode, HOST_EXIT.nameConflict);
  t.equal(error.message, `create app-production: the container name is taken: ${NAME_TAKEN}`);
  t.equal(error.hint, "remove that container (docker rm) or wait for the other run to finish");
});

t.test("a host port is taken: exit 14, in both of the engine's wordings", async (t) => {
  for (const said of [PORT_ALLOCATED, ADDRESS_IN_USE]) {
    const error = classifyEngineError(httpError(500, said), { what: "start app-production", env: NO_ENV });
    t.equal(error.exitCode, HOST_EXIT.portInUse);
    t.equal(error.message, `start app-production: a host port is already in use: ${said}`);
    t.equal(error.hint, "free the port, or change port[].src in the book");
  }
});

t.test("anything else: exit 1 with the engine's own words", async (t) => {
  const cases: [string, Error, string][] = [
    ["a missing container", httpError(404, "No such container: app-production"), "No such container: app-production"],
    ["another 409", httpError(409, "removal of container abc123 is already in progress"), "removal of container abc123 is already in progress"],
    ["a server error", httpError(500, "OCI runtime create failed: exec: \"/start\": no such file"), "OCI runtime create failed: exec: \"/start\": no such file"],
    ["no JSON body", Object.assign(new Error("(HTTP code 502) bad gateway"), { statusCode: 502, json: null }), "(HTTP code 502) bad gateway"],
  ];
  for (const [label, engineError, said] of cases) {
    const error = classifyEngineError(engineError, ACTION);
    t.equal(error.exitCode, HOST_EXIT.failed, label);
    t.equal(error.message, `create app-production: the Docker engine answered: ${said}`, label);
    t.equal(error.hint, undefined, label);
    t.equal(error.cause, engineError, `${label}: the engine's error is the cause`);
  }
});

t.test("a connection that breaks after it was made: exit 1, not \"no engine\"", async (t) => {
  // docker-modem's 60 s idle timeout destroys the request: Node reports a reset without a syscall.
  const hangUp = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  const cases: [string, Error][] = [
    ["the idle timeout", hangUp],
    ["a reset mid-stream", socketError("ECONNRESET", "read")],
    ["a broken pipe", socketError("EPIPE", "write")],
    ["a timeout while reading", socketError("ETIMEDOUT", "read")],
  ];
  for (const [label, engineError] of cases) {
    const error = classifyEngineError(engineError, ACTION);
    t.equal(error.exitCode, HOST_EXIT.failed, label);
    t.match(error.message, /^create app-production: the connection to the Docker engine at unix:\/\/\/var\/run\/docker\.sock broke: /, label);
    t.match(error.hint, /overloaded, frozen or restarting/, label);
  }
  t.equal(classifyEngineError(hangUp, ACTION).message,
    "create app-production: the connection to the Docker engine at unix:///var/run/docker.sock broke: socket hang up (ECONNRESET)");
});

t.test("formatHostError escapes what the engine, a book or a container's files put in a message", async (t) => {
  const line = formatHostError(new HostError(HOST_EXIT.failed, "app-production: status \u001b]0;pwn\u0007\nforged: line", "hint\r"));
  t.equal(line, "boxinit host: error: app-production: status \\x1b]0;pwn\\x07\\nforged: line; hint\\r\n");
});

t.test("the engine's words: its JSON message, on one line", async (t) => {
  t.equal(engineMessage(httpError(500, "  first line\n  second\tline  ")), "first line second line");
  t.equal(engineMessage(new Error("plain")), "plain");
  t.equal(engineMessage("a string"), "a string");
});

t.test("a HostError passes through unchanged", async (t) => {
  const own = new HostError(HOST_EXIT.backoff, "app-production: backoff is engaged", "boxinit host backoff BOOK off");
  t.equal(classifyEngineError(own, ACTION), own);
  t.same([own.exitCode, own.message, own.hint, own.name], [4, "app-production: backoff is engaged", "boxinit host backoff BOOK off", "HostError"]);
});

t.test("formatHostError: one line, the hint after '; '", async (t) => {
  t.equal(formatHostError(new HostError(HOST_EXIT.failed, "a: b: c")), "boxinit host: error: a: b: c\n");
  t.equal(formatHostError(new HostError(HOST_EXIT.noEngine, "a: b", "do this")), "boxinit host: error: a: b; do this\n");
  const engineErrors = [
    socketError("ENOENT"), socketError("EACCES"), httpError(404, "No such image:\napp:run"), httpError(409, NAME_TAKEN.replace(". ", ".\n")),
    httpError(500, `${PORT_ALLOCATED}\n`), httpError(500, "line one\r\nline two\n"),
  ];
  for (const engineError of engineErrors) {
    const line = formatHostError(classifyEngineError(engineError, ACTION));
    t.match(line, /^boxinit host: error: create app-production: [^\n\r]+\n$/, `one line: ${JSON.stringify(line)}`);
  }
});

t.test("exit codes: one for each error a user meets, none of them 0, 1 or 2", async (t) => {
  const userFacing = [HOST_EXIT.noEngine, HOST_EXIT.permissionDenied, HOST_EXIT.imageNotFound, HOST_EXIT.nameConflict, HOST_EXIT.portInUse];
  t.equal(new Set(userFacing).size, userFacing.length, "distinct");
  for (const code of userFacing) t.notOk([0, 1, 2].includes(code), `${code} is not ok, failed or usage`);
  t.same([HOST_EXIT.ok, HOST_EXIT.failed, HOST_EXIT.usage], [0, 1, 2]);
  for (const code of Object.values(HOST_EXIT)) t.ok(Number.isInteger(code) && code >= 0 && code <= 125, `${code}: a shell can tell it from 126+ and signals`);
});
