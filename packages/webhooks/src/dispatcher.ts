import { randomBytes } from "node:crypto";
import type { Clock } from "@paylink/core";
import { createLoop } from "@paylink/relay";
import { Webhook } from "standardwebhooks";
import type { AllowedAddresses } from "./address.js";
import type { DeliveryOutcome, WebhookDelivery, WebhookEndpoint, WebhookStore } from "./port.js";
import { post } from "./send.js";

/**
 * The pauses after each failed attempt, from the Standard Webhooks specification's schedule: 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. After the last one fails the delivery is dead.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000,
];

/** The longest `Retry-After` honoured. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/** Options of {@link createWebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  readonly store: WebhookStore;
  /** Pauses after each failed attempt (jittered by ±10%). Default {@link DEFAULT_RETRY_SCHEDULE_MS}. */
  readonly retryScheduleMs?: readonly number[];
  /** An attempt without a 2xx within this is a failure. Default 15 000 ms. */
  readonly timeoutMs?: number;
  /** An endpoint that has only failed for this long is disabled. Default 5 days. */
  readonly disableAfterMs?: number;
  /** Addresses beyond the public internet that endpoints may reach (see {@link AllowedAddresses}). */
  readonly allow?: AllowedAddresses;
  /** Deliveries in flight at once (each to a different endpoint). Default 16. */
  readonly concurrency?: number;
  /** How often to look for due deliveries when not woken. Default 1 000 ms. */
  readonly pollMs?: number;
  /**
   * How long a delivery stays leased to this dispatcher for one attempt; after a dispatcher dies
   * mid-attempt, its delivery (and so its endpoint, one delivery at a time) waits this long before another
   * dispatcher tries it. At least `timeoutMs + 1000` (room to record the attempt), at most a day.
   * Default `timeoutMs + 30 000` ms.
   */
  readonly leaseMs?: number;
  /** This dispatcher's name in delivery leases. Default: random. */
  readonly owner?: string;
  readonly clock?: Clock;
}

/** Sends due deliveries: one attempt per endpoint at a time, retries on the schedule, dead letters. */
export interface WebhookDispatcher {
  /** Sends what is due now, until nothing is; answers how many attempts were made. */
  runOnce(): Promise<number>;
  start(): void;
  /** Stops polling and waits for the attempts in flight. */
  stop(): Promise<void>;
  /** Looks for due deliveries now (new ones were just added). */
  wake(): void;
}

/** Seconds or an HTTP date, as `Retry-After` carries; `undefined` when unreadable. */
function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Creates the dispatcher of webhook deliveries. Each attempt is signed per Standard Webhooks
 * (`webhook-id` = the event's id, the same on every attempt; `webhook-timestamp`; `webhook-signature`).
 * A 2xx delivers; 410 disables the endpoint; 429 and 503 wait for `Retry-After`; anything else (a
 * timeout, a refused connection, another status) waits for the next step of the schedule.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { store } = options;
  const schedule = options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const disableAfterMs = options.disableAfterMs ?? 5 * 86_400_000;
  const allow = options.allow ?? {};
  const concurrency = options.concurrency ?? 16;
  const pollMs = options.pollMs ?? 1_000;
  const owner = options.owner ?? `dispatch_${randomBytes(9).toString("base64url")}`;
  const clock = options.clock ?? { now: () => new Date() };
  // A lease outlives the attempt (its timeout) with room to record it.
  const leaseMs = options.leaseMs ?? timeoutMs + 30_000;
  // The lease is counted from before the delivery is read and the endpoint looked up: a second's room
  // to record the attempt, and a finite end (an infinite one would never lapse after a crash).
  if (!(Number.isFinite(leaseMs) && leaseMs >= timeoutMs + 1_000 && leaseMs <= 86_400_000))
    throw new TypeError(
      `createWebhookDispatcher: leaseMs (${leaseMs}) must be at least timeoutMs + 1000 (${timeoutMs + 1_000}) and at most a day`,
    );

  async function attempt(delivery: WebhookDelivery, endpoint: WebhookEndpoint): Promise<void> {
    const sentAt = clock.now();
    const signature = new Webhook(endpoint.secret).sign(delivery.eventId, sentAt, delivery.payload);
    const result = await post(
      endpoint.url,
      delivery.payload,
      {
        "content-type": "application/json",
        "user-agent": "Paylink-Webhooks/1",
        "webhook-id": delivery.eventId,
        "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
        "webhook-signature": signature,
      },
      timeoutMs,
      allow,
    );
    const now = clock.now();
    const nowMs = now.getTime();
    const attempts = delivery.attempts + 1;
    const scope = { accountId: endpoint.accountId, livemode: endpoint.livemode };
    const base = { attempts, updatedAt: now.toISOString() };
    let outcome: DeliveryOutcome;
    if (result.ok && result.status >= 200 && result.status < 300) {
      outcome = {
        ...base,
        status: "succeeded",
        lastStatusCode: result.status,
        lastError: null,
        nextAttemptAt: null,
      };
      if (endpoint.failingSince !== null) {
        await store.updateEndpoint(scope, endpoint.id, {
          status: endpoint.status,
          disabledReason: null,
          failingSince: null,
        });
      }
    } else if (result.ok && result.status === 410) {
      outcome = {
        ...base,
        status: "dead",
        lastStatusCode: 410,
        lastError: "HTTP 410: endpoint gone",
        nextAttemptAt: null,
      };
      await store.updateEndpoint(scope, endpoint.id, {
        status: "disabled",
        disabledReason: "gone",
        failingSince: endpoint.failingSince ?? now.toISOString(),
      });
    } else {
      const waited = result.ok && (result.status === 429 || result.status === 503);
      const hinted = waited ? retryAfterMs(result.retryAfter, nowMs) : undefined;
      const step = schedule[attempts - 1];
      const lastError = result.ok ? `HTTP ${result.status}` : result.error;
      const dead = step === undefined;
      const jittered = step === undefined ? 0 : step * (0.9 + Math.random() * 0.2);
      // Retry-After is honoured from 1 s up to a day: a receiver cannot park its deliveries for longer.
      const pause = hinted === undefined ? jittered : Math.min(Math.max(hinted, 1000), MAX_RETRY_AFTER_MS);
      outcome = {
        ...base,
        status: dead ? "dead" : "pending",
        lastStatusCode: result.ok ? result.status : null,
        lastError,
        nextAttemptAt: dead ? null : new Date(nowMs + pause).toISOString(),
      };
      const failingSince = endpoint.failingSince ?? now.toISOString();
      const tooLong = nowMs - Date.parse(failingSince) >= disableAfterMs;
      if (endpoint.failingSince === null || tooLong) {
        await store.updateEndpoint(scope, endpoint.id, {
          status: tooLong ? "disabled" : endpoint.status,
          disabledReason: tooLong ? "failing" : endpoint.disabledReason,
          failingSince,
        });
      }
    }
    await store.recordAttempt(delivery.id, owner, outcome);
  }

  /** One attempt of a leased delivery; a failing store is reported, and the lease lapses into a retry. */
  async function send(delivery: WebhookDelivery): Promise<void> {
    try {
      const scope = { accountId: delivery.accountId, livemode: delivery.livemode };
      const endpoint = await store.getEndpoint(scope, delivery.endpointId);
      if (endpoint !== undefined) await attempt(delivery, endpoint);
    } catch (error) {
      console.error("[paylink/webhooks] delivery attempt failed:", error);
    }
  }

  // A pool: a slot that frees (an endpoint answered) is refilled at once, so a slow endpoint holds one
  // slot and never the others' next deliveries.
  async function runOnce(): Promise<number> {
    let made = 0;
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      if (inFlight.size < concurrency) {
        const now = clock.now();
        const due = await store.leaseDueDeliveries(
          owner,
          now.toISOString(),
          new Date(now.getTime() + leaseMs).toISOString(),
          concurrency - inFlight.size,
        );
        for (const delivery of due) {
          const running: Promise<void> = send(delivery).finally(() => inFlight.delete(running));
          inFlight.add(running);
        }
        made += due.length;
        if (due.length > 0) continue;
      }
      if (inFlight.size === 0) return made;
      await Promise.race(inFlight);
    }
  }

  const loop = createLoop(runOnce, {
    pollMs,
    onError: (error) => console.error("[paylink/webhooks] dispatch failed:", error),
  });
  return { runOnce, wake: loop.wake, start: loop.start, stop: loop.stop };
}
