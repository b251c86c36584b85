import type { PaymentStore } from "@paylink/core";

/** Where a sink stands in the outbox, and who holds it. */
export interface SinkPosition {
  /** The sink's name. */
  readonly sink: string;
  /** The sequence of the last outbox event the sink has been handed (0: none yet). */
  readonly position: number;
  /** The relay instance holding the sink's lease, or `null`. */
  readonly owner: string | null;
  /** ISO-8601 end of that lease, or `null`. */
  readonly leaseUntil: string | null;
}

/**
 * What a store keeps for relays: one cursor and one lease per sink. Relays on one database share the
 * work through the leases, and the cursor only moves for the lease's holder, so a relay whose lease
 * lapsed (a pause, a crash) can never move a cursor that another relay now owns.
 */
export interface RelayStore {
  /**
   * Takes the lease on `sink` for `owner` until `leaseUntil` (ISO-8601), atomically, when the sink has no
   * lease, its lease ended at or before `now`, or `owner` already holds it. Answers the sink's position
   * when the lease is `owner`'s (a new sink starts at 0), `undefined` when another relay holds it.
   */
  claimSink(sink: string, owner: string, now: string, leaseUntil: string): Promise<number | undefined>;

  /**
   * Moves the sink's cursor forward to `position` and extends the lease to `leaseUntil`, only while
   * `owner` holds the lease. Answers `false`, changing nothing, when it does not (the lease was taken
   * over). A position never moves backwards.
   */
  advanceSink(sink: string, owner: string, position: number, leaseUntil: string): Promise<boolean>;

  /** Ends `owner`'s lease on `sink` (a relay that stops), keeping the position. */
  releaseSink(sink: string, owner: string): Promise<void>;

  /** Every sink's position and lease. */
  sinkPositions(): Promise<SinkPosition[]>;

  /** The sequence of the newest outbox event, 0 when there is none. */
  lastSequence(): Promise<number>;
}

/** A store a relay can run on: the payment store (whose outbox it reads) with {@link RelayStore}. */
export type RelayableStore = PaymentStore & RelayStore;
