// The bare Node 24 SEA "init" boxinit is measured against: spawn the command,
// exit with its code. No reaping, no signal handling.
const { argv } = process;
require('child_process').spawn(argv[2], argv.slice(3), { stdio: 'inherit' }).on('exit', (c, s) => process.exit(c ?? 128));
