#!/usr/bin/env node
// The `partner-programs` command. A build (`npm run build`) runs as plain JavaScript; a checkout
// without one runs the TypeScript sources through tsx (a dependency), so `npm ci` alone is enough.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const built = new URL('../dist/cli.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli.ts', import.meta.url).href);
}
