import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../', import.meta.url);
/** Inside the checkout (git-ignored), so the compiled modules find its node_modules by walking up. */
const BUILD = new URL('bench/results/build/', ROOT);

/**
 * The service compiled as `npm run build` compiles it (without the type-check: the output is the
 * same), beside a copy of package.json as dist/ needs; returns its cli.js and a remover. The
 * soak measures the process a deployment runs: through tsx, the sources' compiled forms and the
 * loader add some 90 MB that no build carries.
 */
export function buildService(): { cli: string; remove: () => Promise<void> } {
  rmSync(BUILD, { recursive: true, force: true });
  mkdirSync(BUILD, { recursive: true });
  copyFileSync(new URL('package.json', ROOT), new URL('package.json', BUILD));
  const dist = fileURLToPath(new URL('dist', BUILD));
  execFileSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('scripts/build.ts', ROOT)), dist, '--no-check'],
    {
      cwd: fileURLToPath(ROOT),
      stdio: 'inherit',
    },
  );
  return {
    cli: fileURLToPath(new URL('dist/cli.js', BUILD)),
    remove: async () => rmSync(BUILD, { recursive: true, force: true }),
  };
}
