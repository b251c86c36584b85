/**
 * A test app with webhook endpoints and the event feed wired to its memory store, a fake resolver for
 * endpoint hosts (no DNS in tests), and ways to put deliveries into the store as the relay's sink does.
 */
import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import type { Scope } from "@paylink/core";
import type { WebhookDelivery } from "@paylink/core/store";
import type { PaylinkAppOptions } from "@paylink/http";
import type { MemoryStoreOptions } from "@paylink/store-memory";
import {
  type AllowedAddresses,
  createWebhookEndpoints,
  createWebhookSink,
  DEFAULT_RETRY_SCHEDULE_MS,
} from "@paylink/webhooks";
import { type Setup, setup } from "./helpers.js";

/** What each test hostname resolves to; a name not listed does not resolve. */
export const HOSTS: Readonly<Record<string, readonly string[]>> = {
  "hooks.example.com": ["93.184.216.34"],
  "v6.example.com": ["2606:2800:220:1:248:1893:25c8:1946"],
  "internal.example.com": ["10.1.2.3"],
  "home.example.com": ["192.168.1.20"],
  "cgnat.example.com": ["100.64.0.9"],
  "metadata.example.com": ["169.254.169.254"],
  localhost: ["127.0.0.1", "::1"],
  "half-private.example.com": ["93.184.216.34", "10.0.0.7"],
  "empty.example.com": [],
};

/** A resolver over {@link HOSTS}: an IP literal resolves to itself, as the system resolver does. */
export async function resolveHost(hostname: string): Promise<string[]> {
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0) return [bare];
  const addresses = HOSTS[bare];
  if (addresses === undefined)
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${bare}`), { code: "ENOTFOUND" });
  return [...addresses];
}

/** {@link setup} with `webhooks` and `events` on its store. */
export function setupDelivery(
  options: { allow?: AllowedAddresses; app?: Partial<PaylinkAppOptions>; store?: MemoryStoreOptions } = {},
): Setup {
  return setup(
    (store, clock) => ({
      webhooks: createWebhookEndpoints({
        store,
        clock,
        resolveHost,
        ...(options.allow ? { allow: options.allow } : {}),
      }),
      events: store,
      ...options.app,
    }),
    options.store,
  );
}

/** Hands every event of the outbox to the webhook sink, as the relay does: one delivery per endpoint. */
export async function queueDeliveries(s: Setup): Promise<void> {
  await createWebhookSink({ store: s.store, clock: s.clock }).deliver(await s.store.readEvents(0, 1_000_000));
}

/**
 * Runs out the attempts of the oldest due delivery of each endpoint, as the dispatcher would after the
 * last retry failed: it is `dead`. Answers the deliveries it killed.
 */
export async function killDueDeliveries(s: Setup): Promise<WebhookDelivery[]> {
  const owner = `test-${randomBytes(4).toString("hex")}`;
  const now = s.clock.now();
  const leased = await s.store.leaseDueDeliveries(
    owner,
    now.toISOString(),
    new Date(now.getTime() + 60_000).toISOString(),
    100,
  );
  for (const delivery of leased) {
    await s.store.recordAttempt(delivery.id, owner, {
      status: "dead",
      attempts: DEFAULT_RETRY_SCHEDULE_MS.length + 1,
      lastStatusCode: 500,
      lastError: "HTTP 500",
      nextAttemptAt: null,
      updatedAt: now.toISOString(),
    });
  }
  return leased;
}

/** Every endpoint and delivery the store holds for `scope`, to check that a refusal stored nothing. */
export async function storedFor(s: Setup, scope: Scope) {
  const endpoints = await s.store.listEndpoints(scope);
  const deliveries = [];
  for (const endpoint of endpoints) {
    deliveries.push(...(await s.store.listDeliveries(scope, endpoint.id, { limit: 1000 })));
  }
  return { endpoints, deliveries };
}
