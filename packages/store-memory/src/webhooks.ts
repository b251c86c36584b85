import type { Scope } from "@paylink/core";
import { rowLimit, type WebhookDelivery, type WebhookEndpoint, type WebhookStore } from "@paylink/core/store";

const inScope = (row: { readonly accountId: string; readonly livemode: boolean }, scope: Scope) =>
  row.accountId === scope.accountId && row.livemode === scope.livemode;

// An endpoint's only nested value is its list of event types; a delivery has none.
const copyEndpoint = (endpoint: WebhookEndpoint): WebhookEndpoint => ({
  ...endpoint,
  events: endpoint.events === null ? null : [...endpoint.events],
});
const copyDelivery = (delivery: WebhookDelivery): WebhookDelivery => ({ ...delivery });

const oldestFirst = (a: WebhookEndpoint, b: WebhookEndpoint) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.createdAt < b.createdAt ? -1 : 1;
const newestFirst = (a: WebhookDelivery, b: WebhookDelivery) =>
  b.sequence - a.sequence || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * The memory store's {@link WebhookStore}: endpoints, deliveries and their leases in `Map`s. It keeps
 * copies, never the caller's objects, and each method is one synchronous step, so a lease is atomic:
 * two dispatchers never lease one delivery, nor two deliveries of one endpoint, at once.
 */
export function memoryWebhookStore(): WebhookStore {
  const endpoints = new Map<string, WebhookEndpoint>();
  const deliveries = new Map<string, WebhookDelivery>();
  /** Leases by delivery id. */
  const leases = new Map<string, { readonly owner: string; readonly until: string }>();
  /** `endpointId`, `eventId` pairs held, so an event handed again is not queued twice. */
  const pairs = new Set<string>();
  const pairOf = (delivery: WebhookDelivery) => JSON.stringify([delivery.endpointId, delivery.eventId]);

  const visibleEndpoint = (scope: Scope, id: string) => {
    const endpoint = endpoints.get(id);
    return endpoint !== undefined && inScope(endpoint, scope) ? endpoint : undefined;
  };
  const visibleDelivery = (scope: Scope, id: string) => {
    const delivery = deliveries.get(id);
    return delivery !== undefined && inScope(delivery, scope) ? delivery : undefined;
  };

  return {
    async insertEndpoint(endpoint) {
      endpoints.set(endpoint.id, copyEndpoint(endpoint));
    },
    async getEndpoint(scope, id) {
      const endpoint = visibleEndpoint(scope, id);
      return endpoint === undefined ? undefined : copyEndpoint(endpoint);
    },
    async listEndpoints(scope) {
      return [...endpoints.values()]
        .filter((endpoint) => inScope(endpoint, scope))
        .sort(oldestFirst)
        .map(copyEndpoint);
    },
    async updateEndpoint(scope, id, { status, disabledReason, failingSince }) {
      const endpoint = visibleEndpoint(scope, id);
      if (endpoint === undefined) return false;
      endpoints.set(id, { ...endpoint, status, disabledReason, failingSince });
      return true;
    },
    async deleteEndpoint(scope, id) {
      if (visibleEndpoint(scope, id) === undefined) return false;
      endpoints.delete(id);
      for (const [key, delivery] of deliveries) {
        if (delivery.endpointId !== id) continue;
        deliveries.delete(key);
        leases.delete(key);
        pairs.delete(pairOf(delivery));
      }
      return true;
    },
    async insertDeliveries(rows) {
      for (const row of rows) {
        const pair = pairOf(row);
        if (pairs.has(pair) || !endpoints.has(row.endpointId)) continue;
        pairs.add(pair);
        deliveries.set(row.id, copyDelivery(row));
      }
    },
    async leaseDueDeliveries(owner, now, leaseUntil, limit) {
      const busy = new Set<string>();
      const oldest = new Map<string, WebhookDelivery>();
      for (const delivery of deliveries.values()) {
        const lease = leases.get(delivery.id);
        if (lease !== undefined && lease.until > now) busy.add(delivery.endpointId);
        if (delivery.status !== "pending") continue;
        const first = oldest.get(delivery.endpointId);
        if (first === undefined || delivery.sequence < first.sequence)
          oldest.set(delivery.endpointId, delivery);
      }
      const due = [...oldest.values()]
        .filter(
          (delivery) =>
            !busy.has(delivery.endpointId) &&
            endpoints.get(delivery.endpointId)?.status === "enabled" &&
            delivery.nextAttemptAt !== null &&
            delivery.nextAttemptAt <= now,
        )
        .sort((a, b) => a.sequence - b.sequence)
        .slice(0, rowLimit(limit));
      for (const delivery of due) leases.set(delivery.id, { owner, until: leaseUntil });
      return due.map(copyDelivery);
    },
    async recordAttempt(id, owner, outcome) {
      const delivery = deliveries.get(id);
      if (delivery === undefined || leases.get(id)?.owner !== owner) return false;
      const { status, attempts, lastStatusCode, lastError, nextAttemptAt, updatedAt } = outcome;
      deliveries.set(id, {
        ...delivery,
        status,
        attempts,
        lastStatusCode,
        lastError,
        nextAttemptAt,
        updatedAt,
      });
      leases.delete(id);
      return true;
    },
    async listDeliveries(scope, endpointId, { limit, startingAfter }) {
      const mine = [...deliveries.values()]
        .filter((delivery) => delivery.endpointId === endpointId && inScope(delivery, scope))
        .sort(newestFirst);
      let start = 0;
      if (startingAfter !== undefined) {
        const index = mine.findIndex((delivery) => delivery.id === startingAfter);
        if (index < 0) return [];
        start = index + 1;
      }
      return mine.slice(start, start + rowLimit(limit)).map(copyDelivery);
    },
    async getDelivery(scope, id) {
      const delivery = visibleDelivery(scope, id);
      return delivery === undefined ? undefined : copyDelivery(delivery);
    },
    async reviveDelivery(scope, id, now) {
      const delivery = visibleDelivery(scope, id);
      if (delivery === undefined || delivery.status !== "dead") return undefined;
      const revived: WebhookDelivery = { ...delivery, status: "pending", nextAttemptAt: now, updatedAt: now };
      deliveries.set(id, revived);
      return copyDelivery(revived);
    },
  };
}
