import cliProgress from 'cli-progress';

/** What a row came to, for the summary: success, or the code it failed with. */
export interface RowTally {
  succeeded: boolean;
  /** The code that the summary groups failures by (`2005 × 50`). */
  code: string;
}

/**
 * Progress on stderr: on a terminal, a bar of rows done of the total (counted beforehand in one
 * cheap pass), with the rate and the time left; always, at the end, one summary line.
 */
export class Progress {
  private rows = 0;
  private succeeded = 0;
  private readonly failures = new Map<string, number>();
  private readonly bar: cliProgress.SingleBar | undefined;

  constructor(
    total: number | undefined,
    stream: NodeJS.WriteStream = process.stderr,
    private readonly startedAt = performance.now(),
  ) {
    if (total === undefined || !stream.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{bar} {value}/{total} rows | {rate} rows/s | {eta_formatted} left',
        etaBuffer: 200,
        fps: 5,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { rate: '0' });
  }

  add(rows: readonly RowTally[]): void {
    for (const row of rows) {
      this.rows += 1;
      if (row.succeeded) this.succeeded += 1;
      else this.failures.set(row.code, (this.failures.get(row.code) ?? 0) + 1);
    }
    if (!this.bar) return;
    const seconds = (performance.now() - this.startedAt) / 1000;
    if (this.rows > this.bar.getTotal()) this.bar.setTotal(this.rows);
    this.bar.update(this.rows, { rate: seconds > 0 ? Math.round(this.rows / seconds).toLocaleString('en-US') : '0' });
  }

  get failed(): number {
    return this.rows - this.succeeded;
  }

  /** Stops the bar; answers the summary line (`1,000,000 rows: 999,950 succeeded, 50 failed (2005 × 50) in 212 s`). */
  finish(): string {
    this.bar?.stop();
    const n = (value: number) => value.toLocaleString('en-US');
    const seconds = (performance.now() - this.startedAt) / 1000;
    const codes = [...this.failures]
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .map(([code, count]) => `${code} × ${n(count)}`);
    const why = codes.length > 0 ? ` (${codes.join(', ')})` : '';
    // Three figures or more: tenths under 100 s, whole seconds beyond.
    const time = seconds < 100 ? seconds.toFixed(1) : n(Math.round(seconds));
    return `${n(this.rows)} rows: ${n(this.succeeded)} succeeded, ${n(this.failed)} failed${why} in ${time} s`;
  }
}
