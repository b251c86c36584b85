/** Options of {@link createLoop}. */
export interface LoopOptions {
  /** How often the loop wakes by itself (for work that other processes create). */
  readonly pollMs: number;
  /** Called with a rejection of the work; the loop goes on. */
  readonly onError: (error: unknown) => void;
  /** Milliseconds to hold off before the next run (a backoff); 0 or less runs at once. Default 0. */
  readonly delayMs?: () => number;
}

/** A background loop: one run at a time, woken on demand and by a poll. */
export interface Loop {
  /** Starts polling and runs at once; the process stays alive until {@link Loop.stop}. Idempotent. */
  start(): void;
  /** Stops polling and waits for the run in flight. */
  stop(): Promise<void>;
  /** Runs now, or once more right after the run in flight (a wake during a run is never lost). */
  wake(): void;
  /** Resolves once no run is in flight. */
  idle(): Promise<void>;
  /**
   * Runs `work` as one of the loop's runs: after the run in flight, and with no other starting until it
   * ends (a wake meanwhile runs once more after it; `stop()` waits for it). Answers what `work` answers.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * The loop behind the relay's sinks and the webhook dispatcher: `work` never runs twice at once, a wake
 * during a run makes one more run after it, and `delayMs` can hold runs off (a failing sink's backoff).
 */
export function createLoop(work: () => Promise<unknown>, options: LoopOptions): Loop {
  let started = false;
  let running: Promise<void> | null = null;
  let again = false;
  let poller: ReturnType<typeof setInterval> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  // Callers of `exclusive` waiting for the run in flight: they go first, so a loop woken faster than it
  // runs (a short poll, a stream of wakes) cannot starve them.
  let waiting = 0;

  const wake = (): void => {
    if (!started) return;
    if (running !== null || waiting > 0) {
      again = true;
      return;
    }
    const wait = options.delayMs?.() ?? 0;
    if (wait > 0) {
      timer ??= setTimeout(() => {
        timer = null;
        wake();
      }, wait);
      return;
    }
    again = false;
    running = work()
      .then(() => undefined, options.onError)
      .finally(() => {
        running = null;
        if (again) wake();
      });
  };

  return {
    start() {
      if (started) return;
      started = true;
      // Not unref'd: a started loop keeps its process alive until `stop()`, so a worker that runs only a
      // relay (or a dispatcher) does not exit while a failed sink waits for its next poll.
      poller = setInterval(wake, options.pollMs);
      wake();
    },
    async stop() {
      started = false;
      if (poller !== null) clearInterval(poller);
      if (timer !== null) clearTimeout(timer);
      poller = null;
      timer = null;
      // The run in flight, and an `exclusive` caller already waiting for it (it goes next), end first.
      while (running !== null || waiting > 0) await (running ?? Promise.resolve());
    },
    wake,
    async idle() {
      await running;
    },
    async exclusive<T>(run: () => Promise<T>): Promise<T> {
      waiting++;
      try {
        while (running !== null) await running;
      } finally {
        waiting--;
      }
      const result = run();
      running = result
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          running = null;
          if (again) wake();
        });
      return result;
    },
  };
}
