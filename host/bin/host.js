#!/usr/bin/env node
// The `host` command. The TypeScript sources are compiled to dist/ by `npm run build`
// (which `npm ci` runs through the `prepare` script).
// 22.13 (and 23.4 on the 23 line) are the first releases with node:sqlite (the checkpoint store) available without a flag.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13) || (major === 23 && minor < 4)) {
  process.stderr.write(`weir needs Node.js 22.13 or newer (23.4 or newer on the 23 line; this is ${process.version}); see the README\n`);
  process.exit(3);
}
let cli;
try {
  cli = await import('../../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  process.stderr.write('weir is not built yet: run `npm run build` (npm ci does it for you)\n');
  process.exit(3);
}
await cli.runProcess();
