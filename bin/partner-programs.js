#!/usr/bin/env -S node --max-semi-space-size=4
// The `partner-programs` command. A build (`npm run build`) runs as plain JavaScript; a checkout
// without one runs the TypeScript sources through tsx (a dependency), so `npm ci` alone is enough.
// V8's young generation is held to 4 MB a half (16 MB by default): `link` over a million rows
// allocates fast and would otherwise grow it by some 30 MB of resident memory for no gain.
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
