import { randomBytes } from "node:crypto";
import type { Clock, StoredEvent } from "@paylink/core";
import type { Sink } from "@paylink/relay";
import type { WebhookDelivery, WebhookEndpoint, WebhookStore } from "./port.js";

/** Options of {@link createWebhookSink}. */
export interface WebhookSinkOptions {
  readonly store: WebhookStore;
  /** Called after a batch added deliveries (wire it to the dispatcher's `wake`). */
  readonly onQueued?: () => void;
  /** The sink's name, which keys its relay cursor. Default `webhooks`. */
  readonly name?: string;
  readonly clock?: Clock;
}

const wants = (endpoint: WebhookEndpoint, type: string) =>
  endpoint.status === "enabled" && (endpoint.events === null || endpoint.events.includes(type));

/**
 * The relay sink of webhooks: for each event, one delivery per enabled endpoint of the event's scope that
 * wants its type, kept in the store. Handing it a batch is quick and local; the dispatcher posts the
 * deliveries, so a slow receiver never holds the relay (or the other sinks) up.
 */
export function createWebhookSink(options: WebhookSinkOptions): Sink {
  const { store } = options;
  const clock = options.clock ?? { now: () => new Date() };
  return {
    name: options.name ?? "webhooks",
    async deliver(events: readonly StoredEvent[]) {
      const byScope = new Map<string, WebhookEndpoint[]>();
      const now = clock.now().toISOString();
      const rows: WebhookDelivery[] = [];
      for (const { sequence, event } of events) {
        const key = `${event.livemode ? 1 : 0}:${event.accountId}`;
        let endpoints = byScope.get(key);
        if (endpoints === undefined) {
          endpoints = await store.listEndpoints({ accountId: event.accountId, livemode: event.livemode });
          byScope.set(key, endpoints);
        }
        for (const endpoint of endpoints) {
          if (!wants(endpoint, event.type)) continue;
          rows.push({
            id: `whd_${randomBytes(12).toString("base64url")}`,
            endpointId: endpoint.id,
            accountId: event.accountId,
            livemode: event.livemode,
            eventId: event.id,
            eventType: event.type,
            sequence,
            payload: JSON.stringify(event),
            status: "pending",
            attempts: 0,
            lastStatusCode: null,
            lastError: null,
            nextAttemptAt: now,
            createdAt: now,
            updatedAt: now,
          });
        }
      }
      if (rows.length === 0) return;
      await store.insertDeliveries(rows);
      options.onQueued?.();
    },
  };
}
