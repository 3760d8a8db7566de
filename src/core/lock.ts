/**
 * A read-write lock for promises, first come first served: readers share it, a writer has it alone,
 * and a waiting writer holds back readers that come after it (so writes are applied in call order).
 */
export class ReadWriteLock {
  private readers = 0;
  private writer = false;
  private readonly waiting: { write: boolean; go: () => void }[] = [];

  /** True while a writer holds the lock or waits for it. */
  get writing(): boolean {
    return this.writer || this.waiting.some((w) => w.write);
  }

  async read<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writer || this.waiting.length > 0) await this.queue(false);
    else this.readers++;
    try {
      return await fn();
    } finally {
      this.readers--;
      this.next();
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writer || this.readers > 0 || this.waiting.length > 0) await this.queue(true);
    else this.writer = true;
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.next();
    }
  }

  private queue(write: boolean): Promise<void> {
    return new Promise((resolve) => this.waiting.push({ write, go: resolve }));
  }

  /** Lets in the next writer, or every reader up to the next writer. */
  private next(): void {
    if (this.writer) return;
    const first = this.waiting[0];
    if (first === undefined) return;
    if (first.write) {
      if (this.readers > 0) return;
      this.waiting.shift();
      this.writer = true;
      first.go();
      return;
    }
    while (this.waiting[0] !== undefined && !this.waiting[0].write) {
      this.readers++;
      this.waiting.shift()!.go();
    }
  }
}
