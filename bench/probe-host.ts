// Scenario 12 until the probe server is wired into dist/boxinit: the module
// src/control/probe-server.ts alone in a Node 24 process, answering for a box
// in `running`. Prints "ready PORT" once it listens; SIGTERM ends it.
import { startProbeServer } from "../src/control/probe-server.ts";
import { probeAnswer } from "../src/control/probe-server-verdict.ts";
import { createLogger } from "../src/log/logger.ts";

const log = await createLogger("text", -1);
const server = await startProbeServer({ port: Number(process.argv[2] ?? 0), answer: (question) => probeAnswer(question, { state: "running" }), log });
process.stdout.write(`ready ${server.port}\n`);
process.on("SIGTERM", () => void server.close());
