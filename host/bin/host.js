#!/usr/bin/env node
// The `host` command. The TypeScript sources are compiled to dist/ by `npm run build`
// (which `npm ci` runs through the `prepare` script).
// The Node.js versions the host and its dependencies support (package.json "engines"): 22.20+ on the 22 line
// (node:sqlite, the checkpoint store, needs 22.13; the plugin build tools' dependencies 22.20), 24.12 or newer.
// Node 23 is end-of-life.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 20) || major === 23 || (major === 24 && minor < 12)) {
  process.stderr.write(`weir needs Node.js 24.12 or newer, or 22.20 or newer on the 22 line (this is ${process.version}); see the README\n`);
  process.exit(3);
}
let cli;
try {
  // First the compile cache (host/src/cli/compile-cache.ts), so that every module loaded after it is read from it.
  (await import('../../dist/cli/compile-cache.js')).enableHostCompileCache();
  cli = await import('../../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/dist\/cli\/(main|compile-cache)\.js/.test(String(error.message))) throw error;
  process.stderr.write('weir is not built yet: run `npm run build` (npm ci does it for you)\n');
  process.exit(3);
}
await cli.runProcess();
