/**
 * Undo steps registered as resources are acquired, run once in reverse order: at the end of a
 * normal run, after a failure, or on Ctrl-C. A failing step is reported and the rest still run,
 * so a stuck server never leaves the bench database behind.
 */
export class Cleanup {
  private readonly steps: Array<{ label: string; run: () => Promise<void> }> = [];
  private running: Promise<void> | undefined;

  add(label: string, run: () => Promise<void>): void {
    this.steps.push({ label, run });
  }

  runAll(): Promise<void> {
    this.running ??= this.runSteps();
    return this.running;
  }

  private async runSteps(): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup: ${step.label} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/**
 * Runs a bench to its end with a Cleanup of its own: on success, on a failure (reported, exit
 * code 1) and on Ctrl-C (exit code 130), every registered step is undone.
 */
export async function withCleanup(
  progress: (message: string) => void,
  bench: (cleanup: Cleanup) => Promise<void>,
): Promise<void> {
  const cleanup = new Cleanup();
  // `on`, not `once`: npm and tsx relay the terminal's SIGINT to this process as well, and a
  // second signal with no listener left would kill it halfway through the cleanup.
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) return;
    interrupted = true;
    progress('interrupted, cleaning up');
    void cleanup.runAll().finally(() => process.exit(130));
  });
  try {
    await bench(cleanup);
  } catch (error) {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  } finally {
    await cleanup.runAll();
  }
}
