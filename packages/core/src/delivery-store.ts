import type { Scope } from "./schemas.js";
import type { StoredEvent } from "./store.js";

/**
 * The ports a store implements so that events leave it: sink cursors for relays ({@link RelayStore}),
 * merchants' webhook endpoints and their deliveries ({@link WebhookStore}), and the scope's events for
 * `GET /events` ({@link EventFeed}). The memory, SQLite and PostgreSQL stores implement all three, and
 * `@paylink/testing` holds their conformance suites. See `docs/writing-a-store.md`.
 */

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

  /** Ends `owner`'s lease on `sink` (a relay that stops), keeping the position. Another owner's lease stays. */
  releaseSink(sink: string, owner: string): Promise<void>;

  /** Every sink's position and lease, by sink name. */
  sinkPositions(): Promise<SinkPosition[]>;

  /** The sequence of the newest outbox event, 0 when there is none. */
  lastSequence(): Promise<number>;
}

/** A merchant's endpoint: where the events of one scope are posted. */
export interface WebhookEndpoint {
  /** `we_…` */
  readonly id: string;
  readonly accountId: string;
  readonly livemode: boolean;
  readonly url: string;
  /** The signing secret (`whsec_…`, Standard Webhooks); shown to the merchant only when created. */
  readonly secret: string;
  /** Event types to send (`payment_link.canceled` …); `null` for all. */
  readonly events: readonly string[] | null;
  readonly status: "enabled" | "disabled";
  /** Why it was disabled (`gone`: the receiver answered 410; `failing`: it only failed for too long). */
  readonly disabledReason: "gone" | "failing" | null;
  /** ISO-8601 start of the current run of failures, `null` while it succeeds. */
  readonly failingSince: string | null;
  /** ISO-8601. */
  readonly createdAt: string;
}

/** One event on its way to one endpoint. */
export interface WebhookDelivery {
  /** `whd_…` */
  readonly id: string;
  readonly endpointId: string;
  readonly accountId: string;
  readonly livemode: boolean;
  /** The event's id: the `webhook-id` header, the same on every attempt. */
  readonly eventId: string;
  readonly eventType: string;
  /** The outbox sequence of the event: deliveries of one endpoint go out in this order. */
  readonly sequence: number;
  /** The body: the domain event as JSON. */
  readonly payload: string;
  /** `pending` until it succeeds or runs out of attempts (`dead`; it can be retried by hand). */
  readonly status: "pending" | "succeeded" | "dead";
  readonly attempts: number;
  readonly lastStatusCode: number | null;
  /** What went wrong on the last attempt, in a few words (`timeout`, `HTTP 500` …). */
  readonly lastError: string | null;
  /** ISO-8601 time of the next attempt while pending. */
  readonly nextAttemptAt: string | null;
  /** ISO-8601. */
  readonly createdAt: string;
  /** ISO-8601. */
  readonly updatedAt: string;
}

/** What an attempt changes on a delivery. */
export type DeliveryOutcome = Pick<
  WebhookDelivery,
  "status" | "attempts" | "lastStatusCode" | "lastError" | "nextAttemptAt" | "updatedAt"
>;

/**
 * Endpoints and deliveries as a store keeps them. Every read and write of an endpoint is confined to a
 * scope: another account's or mode's endpoint is `undefined`, as payments are. Every method returns
 * copies, never objects the store keeps.
 */
export interface WebhookStore {
  /** Adds an endpoint (its id is new). */
  insertEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** The endpoint `id` in `scope`, or `undefined`. */
  getEndpoint(scope: Scope, id: string): Promise<WebhookEndpoint | undefined>;
  /** The scope's endpoints, oldest first (by `createdAt`, then `id`). */
  listEndpoints(scope: Scope): Promise<WebhookEndpoint[]>;
  /** Changes an endpoint's status and failure run; `false` when it does not exist in the scope. */
  updateEndpoint(
    scope: Scope,
    id: string,
    patch: Pick<WebhookEndpoint, "status" | "disabledReason" | "failingSince">,
  ): Promise<boolean>;
  /** Deletes an endpoint and its deliveries; `false` when it does not exist in the scope. */
  deleteEndpoint(scope: Scope, id: string): Promise<boolean>;
  /**
   * Adds deliveries, skipping any whose (endpoint, event) pair exists already: the relay may hand an
   * event again, and it must not be posted twice because of that. A delivery for an endpoint that no
   * longer exists is skipped too.
   */
  insertDeliveries(deliveries: readonly WebhookDelivery[]): Promise<void>;
  /**
   * For each enabled endpoint with no delivery leased right now, its oldest pending delivery (smallest
   * `sequence`) if it is due (`nextAttemptAt <= now`), leased to `owner` until `leaseUntil`; at most
   * `limit`. One delivery per endpoint at a time keeps an endpoint's deliveries in order and a slow
   * endpoint busy alone; the lease, atomic across processes, keeps two dispatchers from posting one
   * delivery at once. An endpoint whose oldest pending delivery is not due yet waits: nothing after it
   * is leased.
   */
  leaseDueDeliveries(
    owner: string,
    now: string,
    leaseUntil: string,
    limit: number,
  ): Promise<WebhookDelivery[]>;
  /** Records an attempt and ends the lease; `false` (nothing changed) when `owner` no longer holds it. */
  recordAttempt(id: string, owner: string, outcome: DeliveryOutcome): Promise<boolean>;
  /**
   * An endpoint's deliveries in `scope`, newest first (by `sequence`), at most `limit`; `startingAfter`
   * is the last delivery id of the previous page, and an unknown one gives an empty page.
   */
  listDeliveries(
    scope: Scope,
    endpointId: string,
    options: { readonly limit: number; readonly startingAfter?: string },
  ): Promise<WebhookDelivery[]>;
  /** The delivery `id` in `scope`, or `undefined`. */
  getDelivery(scope: Scope, id: string): Promise<WebhookDelivery | undefined>;
  /**
   * Makes a dead delivery pending again, due at `now`, keeping its attempts; `undefined` when it is not
   * dead or not in the scope.
   */
  reviveDelivery(scope: Scope, id: string, now: string): Promise<WebhookDelivery | undefined>;
}

/** The scope's events, as `GET /events` pages them. */
export interface EventFeed {
  /**
   * Events of `scope` (and of `paymentId` when given), oldest first (by sequence), at most `limit`.
   * `startingAfter` is the id of the last event of the previous page; an unknown one, or one of another
   * scope, gives an empty page.
   */
  listEvents(
    scope: Scope,
    options: { readonly limit: number; readonly startingAfter?: string; readonly paymentId?: string },
  ): Promise<StoredEvent[]>;
}

/** Every port a store implements for event delivery. */
export type DeliveryStore = RelayStore & WebhookStore & EventFeed;
