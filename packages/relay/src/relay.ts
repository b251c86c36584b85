import { randomBytes } from "node:crypto";
import type { Clock, PaymentStore, StoredEvent } from "@paylink/core";
// For TSDoc links only.
import type { RetryLaterError } from "./gateway-sinks.js";
import { createLoop } from "./loop.js";
import type { RelayableStore } from "./port.js";

/**
 * Where a relay hands outbox events. A sink is handed each event at least once, in outbox order, in
 * batches; it must finish (or reject) a batch before the next one comes. Its `name` keys its cursor in
 * the store: renaming a sink starts it again from the first event.
 */
export interface Sink {
  readonly name: string;
  /** Takes a batch; rejecting means none of it counts as delivered and the batch comes again later. */
  deliver(events: readonly StoredEvent[]): Promise<void>;
}

/** How far one sink is behind the outbox. */
export interface SinkLag {
  readonly sink: string;
  /**
   * Events written to the outbox that the sink has not been handed yet, counted by sequence (an upper
   * bound on stores whose sequences can skip numbers, as PostgreSQL's do after a rolled-back write).
   */
  readonly events: number;
  /** Age in seconds of the oldest of them (0 when caught up). */
  readonly seconds: number;
}

/**
 * The wait a sink's failure asks for: a finite `retryAfterMs` on the error (as {@link RetryLaterError}
 * carries), else 0. Duck-typed, so any sink can ask for it.
 */
function retryAfterOf(error: unknown): number {
  if (typeof error !== "object" || error === null || !("retryAfterMs" in error)) return 0;
  const wait = error.retryAfterMs;
  return typeof wait === "number" && Number.isFinite(wait) ? wait : 0;
}

/** Options of {@link createRelay}. */
export interface RelayOptions {
  readonly store: RelayableStore;
  readonly sinks: readonly Sink[];
  /** This relay's name in leases. Default: random, so each process is its own owner. */
  readonly owner?: string;
  /** How long a lease lasts without renewal; a dead relay's sinks are taken over after it. Default 15 000 ms. */
  readonly leaseMs?: number;
  /** How often to look for other processes' writes and lapsed leases. Default 1 000 ms. */
  readonly pollMs?: number;
  /** Events per batch. Default 100. */
  readonly batchSize?: number;
  /**
   * Backoff of a failing sink: the first pause, doubled per failure up to the cap. Default 1 000 → 60 000 ms.
   * A rejection that carries a finite `retryAfterMs` (a {@link RetryLaterError}, or any error with one)
   * waits at least that long, still at most `maxMs`.
   */
  readonly backoff?: { readonly firstMs: number; readonly maxMs: number };
  readonly clock?: Clock;
  /** Called with a sink's failure (the relay backs that sink off and goes on). Default: `console.error`. */
  readonly onError?: (error: unknown, sink: string) => void;
}

/** What {@link Relay.runOnce} did for one sink. */
export interface SinkRun {
  readonly sink: string;
  /** Events handed to the sink in this run. */
  readonly delivered: number;
  /** `caught_up`, `failed` (the sink rejected a batch) or `leased_elsewhere` (another relay holds it). */
  readonly outcome: "caught_up" | "failed" | "leased_elsewhere";
}

/** A relay: reads the outbox through the store and hands each event to every sink. */
export interface Relay {
  /** Starts the sinks' loops: woken by {@link Relay.wake} and by a poll. Keeps the process alive until {@link Relay.stop}. Idempotent. */
  start(): void;
  /** Stops polling, waits for the batches in flight to end, and releases this relay's leases. */
  stop(): Promise<void>;
  /** Hands every sink what is waiting for it, once, and answers per sink (for scripts and cron). */
  runOnce(): Promise<SinkRun[]>;
  /** Asks the sinks' loops to look at the outbox now (a write in this process just committed). */
  wake(): void;
  /** How far each sink is behind. */
  lag(): Promise<SinkLag[]>;
  /**
   * `store` with every write that committed waking this relay: pass it to `createPaymentLinks`, so events
   * leave right after their commit instead of at the next poll.
   */
  notifying<S extends PaymentStore>(store: S): S;
}

interface SinkState {
  readonly sink: Sink;
  failures: number;
  /** No attempt before this time (ms): the sink is backing off. */
  notBefore: number;
  /**
   * Until when (ms, on the relay's clock) this relay's lease on the sink is known to run, and the
   * sink's position under it: while the lease has two thirds of its time left, a run reads on from here
   * without claiming again, so an idle poll or a wake writes nothing to the store. 0: not known to hold it.
   */
  heldUntil: number;
  position: number;
}

/**
 * Creates a relay over `store`'s outbox. Each sink has its own cursor and lease in the store, its own
 * loop and its own backoff: a failing sink waits alone. At least once: a batch whose cursor was not saved
 * (a crash, a lost lease) is handed again, with the same event ids, which receivers dedupe on.
 *
 * @example
 * const relay = createRelay({ store, sinks: [natsSink] });
 * const links = createPaymentLinks({ store: relay.notifying(store) });
 * relay.start();
 */
export function createRelay(options: RelayOptions): Relay {
  const { store } = options;
  const owner = options.owner ?? `relay_${randomBytes(9).toString("base64url")}`;
  const leaseMs = options.leaseMs ?? 15_000;
  const pollMs = options.pollMs ?? 1_000;
  const batchSize = options.batchSize ?? 100;
  const backoff = options.backoff ?? { firstMs: 1_000, maxMs: 60_000 };
  const clock = options.clock ?? { now: () => new Date() };
  const report =
    options.onError ??
    ((error: unknown, sink: string) => console.error(`[paylink/relay] sink ${sink} failed:`, error));
  const names = new Set<string>();
  for (const sink of options.sinks) {
    if (names.has(sink.name)) throw new TypeError(`createRelay: two sinks are named "${sink.name}"`);
    names.add(sink.name);
  }

  const states: SinkState[] = options.sinks.map((sink) => ({
    sink,
    failures: 0,
    notBefore: 0,
    heldUntil: 0,
    position: 0,
  }));

  const leaseUntil = () => new Date(clock.now().getTime() + leaseMs).toISOString();

  /**
   * Waits for `delivering` while renewing this relay's lease on the sink every third of `leaseMs`, so a batch
   * that takes longer than the lease (a slow broker, a receiver) is never handed by a second relay at the
   * same time. Only a pause longer than the lease itself (the process frozen) can still let another relay
   * take the sink over; then this relay's cursor cannot move (`advanceSink` answers `false`). A renewal in
   * flight is awaited before returning, so none lands after `stop()` released the lease.
   */
  async function holdingLease(state: SinkState, delivering: Promise<void>): Promise<void> {
    let renewal: Promise<unknown> = Promise.resolve();
    // `advanceSink` to the position already handed: it extends only a lease this relay still holds, and
    // never moves the cursor (a lease taken over meanwhile stays with its new holder).
    const timer = setInterval(
      () => {
        const until = leaseUntil();
        renewal = store.advanceSink(state.sink.name, owner, state.position, until).then(
          (held) => {
            state.heldUntil = held ? Date.parse(until) : 0;
          },
          () => undefined,
        );
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    try {
      await delivering;
    } finally {
      clearInterval(timer);
      await renewal;
    }
  }

  /** Hands one sink everything waiting for it, batch by batch, while its lease holds. */
  async function drain(state: SinkState): Promise<SinkRun> {
    const name = state.sink.name;
    let position: number | undefined = state.position;
    // The first renewal of a batch comes a third of the lease after it starts: a cached lease is used only
    // while two thirds of it are left, so a third remains as margin for the read and a slow tick.
    if (state.heldUntil - (2 * leaseMs) / 3 <= clock.now().getTime()) {
      const until = leaseUntil();
      position = await store.claimSink(name, owner, clock.now().toISOString(), until);
      if (position === undefined) {
        state.heldUntil = 0;
        return { sink: name, delivered: 0, outcome: "leased_elsewhere" };
      }
      state.heldUntil = Date.parse(until);
      state.position = position;
    }
    let delivered = 0;
    for (;;) {
      const batch = await store.readEvents(position, batchSize);
      if (batch.length === 0) return { sink: name, delivered, outcome: "caught_up" };
      try {
        await holdingLease(state, state.sink.deliver(batch));
      } catch (error) {
        state.failures++;
        // A sink that knows how long to wait (a provider's Retry-After) says so with `retryAfterMs`.
        const doubled = backoff.firstMs * 2 ** Math.min(state.failures - 1, 30);
        state.notBefore = Date.now() + Math.min(backoff.maxMs, Math.max(doubled, retryAfterOf(error)));
        report(error, name);
        return { sink: name, delivered, outcome: "failed" };
      }
      state.failures = 0;
      state.notBefore = 0;
      const last = batch[batch.length - 1]!.sequence;
      const until = leaseUntil();
      if (!(await store.advanceSink(name, owner, last, until))) {
        // Another relay took the lease over: it hands this batch again, which at least once allows.
        state.heldUntil = 0;
        return { sink: name, delivered: delivered + batch.length, outcome: "leased_elsewhere" };
      }
      state.heldUntil = Date.parse(until);
      state.position = last;
      position = last;
      delivered += batch.length;
    }
  }

  // Each sink its own loop: a failing sink backs off alone.
  const loops = states.map((state) =>
    createLoop(() => drain(state), {
      pollMs,
      onError: (error) => report(error, state.sink.name),
      delayMs: () => state.notBefore - Date.now(),
    }),
  );
  const wake = () => {
    for (const loop of loops) loop.wake();
  };

  const relay: Relay = {
    start() {
      for (const loop of loops) loop.start();
    },
    async stop() {
      await Promise.all(loops.map((loop) => loop.stop()));
      await Promise.all(
        states.map((state) => {
          state.heldUntil = 0;
          return store.releaseSink(state.sink.name, owner).catch(() => undefined);
        }),
      );
    },
    async runOnce() {
      const runs: SinkRun[] = [];
      for (const [index, state] of states.entries()) {
        // As one of the sink's loop runs: never beside a run of `start()`, and `stop()` waits for it.
        runs.push(await loops[index]!.exclusive(() => drain(state)));
      }
      return runs;
    },
    wake,
    async lag() {
      const [last, positions] = await Promise.all([store.lastSequence(), store.sinkPositions()]);
      const at = new Map(positions.map((p) => [p.sink, p.position]));
      const now = clock.now().getTime();
      return Promise.all(
        states.map(async ({ sink }): Promise<SinkLag> => {
          const position = at.get(sink.name) ?? 0;
          if (position >= last) return { sink: sink.name, events: 0, seconds: 0 };
          const [oldest] = await store.readEvents(position, 1);
          const since = oldest === undefined ? now : Date.parse(oldest.event.occurredAt);
          return {
            sink: sink.name,
            events: last - position,
            seconds: Math.max(0, Math.round((now - since) / 1000)),
          };
        }),
      );
    },
    notifying<S extends PaymentStore>(target: S): S {
      const woken = <T>(written: T) => {
        if (written === true) queueMicrotask(wake);
        return written;
      };
      return new Proxy(target, {
        get(object, property, receiver) {
          const value = Reflect.get(object, property, receiver);
          if (property !== "insert" && property !== "compareAndSwap") return value;
          return (...args: unknown[]) =>
            (value as (...a: unknown[]) => Promise<unknown>).apply(object, args).then(woken);
        },
      });
    },
  };
  return relay;
}
