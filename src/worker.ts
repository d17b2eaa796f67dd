// Entry point of `npm run worker`. Checks the Node version before anything else loads (imports are hoisted, so
// the worker is loaded dynamically after the check), like main.ts.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `Tenantry needs Node.js 24 or newer; this is ${process.versions.node}. ` +
      'Run it through npm (npm run worker), which uses the node@24 the project installs, or install Node 24.\n',
  );
  process.exit(1);
}
await import('./worker-process.js');
