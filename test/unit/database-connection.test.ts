import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, openDatabase } from '../../src/db/database.js';
import { freePort } from '../support/process.js';

// A PostgreSQL that never answers stops the start after the connect timeout instead of hanging it.
const silent = createServer(() => {
  // accepts, then says nothing
});
afterAll(() => silent.close());

describe('opening PostgreSQL', () => {
  it('gives up on a server that does not answer, saying so', async () => {
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    const opening = openDatabase({ kind: 'postgres', url: `postgres://u@127.0.0.1:${port}/db`, connectTimeoutMs: 300 });
    await expect(opening).rejects.toThrow(DatabaseUnavailableError);
    await expect(opening).rejects.toThrow(
      `PostgreSQL at 127.0.0.1:${port} did not answer within 0.3 s; ` +
        'check the host and port in DATABASE_URL and any firewall between',
    );
  });
});
