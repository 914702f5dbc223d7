import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';

/**
 * RESULT.csv as it is written: a header, then rows in input order, each handed to the file as
 * soon as it is known, so that a command stopped by anything (kill -9 included) leaves a
 * prefix of whole rows that `--resume` can go on from.
 *
 * `in place` writes the result file itself (a first run). `replacing` writes a temporary file
 * beside it and renames it over the result at the end (a resumed run, which reads the old
 * result while it writes the new one): until then the old result stays whole.
 */
export class ResultWriter {
  private readonly stringifier: Stringifier;
  private readonly file: WriteStream;
  private readonly writing: string;
  private failure: Error | undefined;

  constructor(
    private readonly path: string,
    header: readonly string[],
    private readonly mode: 'in place' | 'replacing',
  ) {
    this.writing = mode === 'in place' ? path : `${path}.${process.pid}.tmp`;
    this.stringifier = stringify({ record_delimiter: '\n' });
    this.file = createWriteStream(this.writing);
    this.stringifier.pipe(this.file);
    this.file.once('error', (error) => (this.failure = error));
    this.stringifier.write([...header]);
  }

  async write(rows: ReadonlyArray<readonly string[]>): Promise<void> {
    if (this.failure) throw this.failure;
    for (const row of rows) {
      if (!this.stringifier.write([...row])) await once(this.stringifier, 'drain');
    }
  }

  /** Everything written and on disk; a replacing writer's file takes the result's name. */
  async commit(): Promise<void> {
    this.stringifier.end();
    await finished(this.file);
    if (this.failure) throw this.failure;
    const handle = await open(this.writing, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (this.mode === 'replacing') await rename(this.writing, this.path);
  }

  /** The command stopped: an in-place result keeps its prefix; a replacing writer's file goes. */
  async abandon(): Promise<void> {
    this.stringifier.end();
    await finished(this.file).catch(() => undefined);
    if (this.mode === 'replacing') await rm(this.writing, { force: true });
  }
}
