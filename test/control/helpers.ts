// Moved to test/helpers/ (issue 15); kept only while tests in progress still import this path.
export * from "../helpers/recording-logger.ts"; export * from "../helpers/temp-dir.ts"; export * from "../helpers/wait-for.ts"; export * from "../helpers/command-io.ts";
