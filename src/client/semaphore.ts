/** Counts permits; `acquire` waits for one. Permits can be added later (see ApiClient's first answer). */
export class Semaphore {
  private readonly waiting: Array<() => void> = [];

  constructor(private permits: number) {}

  async acquire(): Promise<void> {
    if (this.permits > 0) {
      this.permits -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.waiting.shift();
      if (next) next();
      else this.permits += 1;
    }
  }
}
