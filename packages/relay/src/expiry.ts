import type { PaylinkError, PaymentLinks } from "@paylink/core";
import { createLoop } from "./loop.js";

/** What one sweep answers: how many links it expired, or the error that ended it (`expireDue`'s result). */
export type SweepResult = Awaited<ReturnType<PaymentLinks["expireDue"]>>;

/** Options of {@link createExpirySweep}. */
export interface ExpirySweepOptions {
  /**
   * The commands whose `expireDue` the sweep calls. With a gateway, each expiry it writes marks the link's
   * stop pending in the same write, for the gateway's stop sink to carry out.
   */
  readonly links: Pick<PaymentLinks, "expireDue">;
  /** How often it sweeps, in milliseconds (a whole number ≥ 1). Default 5 000. */
  readonly everyMs?: number;
  /** How many due links one `expireDue` call expires; a full batch is followed at once by another. Default 100. */
  readonly batchSize?: number;
  /** Hears a failed sweep's error; the next sweep tries again. Default: a line on `console.error`. */
  readonly onError?: (error: PaylinkError) => void;
  /** Hears how many links a sweep expired, when it expired any. */
  readonly onExpired?: (count: number) => void;
}

/** A running (or stopped) expiry sweep: `links.expireDue()` on a schedule. */
export interface ExpirySweep {
  /** Sweeps now, then every `everyMs` until {@link ExpirySweep.stop}; keeps the process alive. Idempotent. */
  start(): void;
  /** Stops the schedule and waits for a sweep in flight. */
  stop(): Promise<void>;
  /**
   * One sweep now, as one of the schedule's (never two at once): batches until fewer than `batchSize`
   * links were due. Answers how many it expired, or the error that ended it.
   */
  runOnce(): Promise<SweepResult>;
}

/** Whether `value` is a whole number of at least 1 (and safe). */
const positive = (value: number) => Number.isSafeInteger(value) && value >= 1;

/**
 * Runs `links.expireDue()` on a schedule. A link expires lazily on its next read anyway, but one that
 * nobody reads would otherwise never expire in the store: no `payment_link.expired` event goes out and,
 * with a gateway, its provider object stays payable. Run one beside the relay; several processes may each
 * run one (a link is expired once: the store's compare-and-swap decides).
 *
 * @throws {TypeError} for an `everyMs` or `batchSize` that is not a whole number ≥ 1 (a programming error).
 * @example
 * const sweep = createExpirySweep({ links, everyMs: 5_000 });
 * sweep.start();
 * // … on shutdown:
 * await sweep.stop();
 */
export function createExpirySweep(options: ExpirySweepOptions): ExpirySweep {
  const { links } = options;
  const everyMs = options.everyMs ?? 5_000;
  const batchSize = options.batchSize ?? 100;
  if (!positive(everyMs))
    throw new TypeError(`createExpirySweep: everyMs must be a whole number ≥ 1, not ${everyMs}`);
  if (!positive(batchSize))
    throw new TypeError(`createExpirySweep: batchSize must be a whole number ≥ 1, not ${batchSize}`);
  const onError =
    options.onError ??
    ((error: PaylinkError) =>
      console.error(`[paylink/expiry] sweep failed: ${error.code}: ${error.message}`));
  let stopping = false;
  // The caller's callbacks are theirs: one that throws is logged, never a rejection of a sweep.
  const tell = (what: string, call: () => void) => {
    try {
      call();
    } catch (error) {
      console.error(`[paylink/expiry] ${what} threw:`, error);
    }
  };

  /** One sweep; a scheduled one ends after its current batch once `stop()` was called. */
  async function sweep(scheduled: boolean): Promise<SweepResult> {
    let total = 0;
    for (;;) {
      const expired = await links.expireDue(batchSize);
      if (expired.isErr()) {
        tell("onError", () => onError(expired.error));
        if (total > 0) tell("onExpired", () => options.onExpired?.(total));
        return expired;
      }
      total += expired.value;
      if ((scheduled && stopping) || expired.value < batchSize) {
        if (total > 0) tell("onExpired", () => options.onExpired?.(total));
        return expired.map(() => total);
      }
    }
  }

  const loop = createLoop(() => sweep(true), {
    pollMs: everyMs,
    // `sweep` answers its errors as values; a rejection here is a bug, logged.
    onError: (error) => console.error("[paylink/expiry] sweep threw:", error),
  });
  return {
    start() {
      stopping = false;
      loop.start();
    },
    async stop() {
      stopping = true;
      await loop.stop();
    },
    runOnce: () => loop.exclusive(() => sweep(false)),
  };
}
