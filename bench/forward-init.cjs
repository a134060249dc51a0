// Scenario 11's bare Node 24 anchor: hello-init.cjs plus forwarding SIGTERM in
// process.on('SIGTERM'), the least a Node init must do for `docker stop`.
// No reaping, no other signal.
const { argv } = process;
const child = require('child_process').spawn(argv[2], argv.slice(3), { stdio: 'inherit' });
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (c, s) => process.exit(c ?? 128));
