// Stands in for dockerode's BuildKit dependencies (@grpc/grpc-js,
// @grpc/proto-loader, protobufjs) in build/lazy/dockerode.cjs: `boxinit host`
// never builds images, and loading them cost ~30 ms of every host command
// (bench/RESULTS.md, scenario 9). Any use fails loudly instead of half-working.
"use strict";
module.exports = new Proxy({}, {
  get(_target, property) {
    if (property === "__esModule" || typeof property === "symbol") return undefined;
    throw new Error(`boxinit host: dockerode's BuildKit support (${String(property)}) is not part of boxinit's build`);
  },
});
