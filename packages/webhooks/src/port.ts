import type { Scope } from "@paylink/core";

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
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What an attempt changes on a delivery. */
export type DeliveryOutcome = Pick<
  WebhookDelivery,
  "status" | "attempts" | "lastStatusCode" | "lastError" | "nextAttemptAt" | "updatedAt"
>;

/**
 * Endpoints and deliveries as a store keeps them. Every read and write of an endpoint is confined to a
 * scope: another account's or mode's endpoint is `undefined`, as payments are.
 */
export interface WebhookStore {
  insertEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  getEndpoint(scope: Scope, id: string): Promise<WebhookEndpoint | undefined>;
  /** The scope's endpoints, oldest first. */
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
   * event again, and it must not be posted twice because of that.
   */
  insertDeliveries(deliveries: readonly WebhookDelivery[]): Promise<void>;
  /**
   * For each enabled endpoint with no delivery leased right now, its oldest pending delivery if it is
   * due (`nextAttemptAt <= now`), leased to `owner` until `leaseUntil`; at most `limit`. One delivery
   * per endpoint at a time keeps an endpoint's deliveries in order, and a slow endpoint busy alone.
   */
  leaseDueDeliveries(
    owner: string,
    now: string,
    leaseUntil: string,
    limit: number,
  ): Promise<WebhookDelivery[]>;
  /** Records an attempt and ends the lease; `false` (nothing changed) when `owner` no longer holds it. */
  recordAttempt(id: string, owner: string, outcome: DeliveryOutcome): Promise<boolean>;
  /** An endpoint's deliveries, newest first, paged by the last id of the previous page. */
  listDeliveries(
    scope: Scope,
    endpointId: string,
    options: { readonly limit: number; readonly startingAfter?: string },
  ): Promise<WebhookDelivery[]>;
  getDelivery(scope: Scope, id: string): Promise<WebhookDelivery | undefined>;
  /** Makes a dead delivery pending again, due at `now`; `undefined` when it is not dead or not in the scope. */
  reviveDelivery(scope: Scope, id: string, now: string): Promise<WebhookDelivery | undefined>;
}
