import type { FastifyBaseLogger } from 'fastify';
import { runDueWork, type SweepDependencies, type SweepReport } from './sweeps.js';

/** One round of work: every sweep over the database, or, where no database is wanted, a stand-in. */
export type SchedulerRound = () => Promise<SweepReport>;

export type SchedulerOptions = { intervalMs: number; logger: FastifyBaseLogger } & (
  SweepDependencies | { round: SchedulerRound }
);

/**
 * Runs the sweeps over and over, `intervalMs` apart, inside the service or alone
 * (`--role worker`). Safe to run in every instance at once: sweeps lock what they handle with
 * SKIP LOCKED and every transition is conditional on the state it reads under that lock, so each
 * due item is handled exactly once. `wake()` starts the next round now (the clock moved).
 */
export class Scheduler {
  private running: Promise<void> | undefined;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  /** A wake that came during a round: the next round starts as soon as this one ends. */
  private wakeRequested = false;
  private readonly round: SchedulerRound;

  constructor(private readonly options: SchedulerOptions) {
    this.round = 'round' in options ? options.round : () => runDueWork(options);
  }

  /** One round of every sweep, now. */
  runOnce(): Promise<SweepReport> {
    return this.round();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.running = this.loop();
  }

  wake(): void {
    this.wakeRequested = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.wakeRequested = false;
      try {
        const report = await this.runOnce();
        if (report.programExpiries + report.transitions + report.reminders > 0) {
          this.options.logger.info({ report }, 'scheduler handled due work');
        }
      } catch (error) {
        this.options.logger.error({ err: error }, 'scheduler round failed; retrying next round');
      }
      if (this.stopped) break;
      if (this.wakeRequested) continue;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.timer = setTimeout(resolve, this.options.intervalMs);
      });
      clearTimeout(this.timer);
      this.wakeUp = undefined;
    }
  }
}
