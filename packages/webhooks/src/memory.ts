import type { Scope } from "@paylink/core";
import type { WebhookDelivery, WebhookEndpoint, WebhookStore } from "./port.js";

const inScope = (row: { accountId: string; livemode: boolean }, scope: Scope) =>
  row.accountId === scope.accountId && row.livemode === scope.livemode;

/**
 * A {@link WebhookStore} in memory: for tests and one process over the memory store. It keeps copies,
 * never the caller's objects.
 */
export function createMemoryWebhookStore(): WebhookStore {
  const endpoints = new Map<string, WebhookEndpoint>();
  const deliveries = new Map<string, WebhookDelivery>();
  const leases = new Map<string, { owner: string; until: string }>();
  const pairs = new Set<string>();

  return {
    async insertEndpoint(endpoint) {
      endpoints.set(endpoint.id, { ...endpoint });
    },
    async getEndpoint(scope, id) {
      const endpoint = endpoints.get(id);
      return endpoint !== undefined && inScope(endpoint, scope) ? { ...endpoint } : undefined;
    },
    async listEndpoints(scope) {
      return [...endpoints.values()].filter((e) => inScope(e, scope)).map((e) => ({ ...e }));
    },
    async updateEndpoint(scope, id, patch) {
      const endpoint = endpoints.get(id);
      if (endpoint === undefined || !inScope(endpoint, scope)) return false;
      endpoints.set(id, { ...endpoint, ...patch });
      return true;
    },
    async deleteEndpoint(scope, id) {
      const endpoint = endpoints.get(id);
      if (endpoint === undefined || !inScope(endpoint, scope)) return false;
      endpoints.delete(id);
      for (const [key, delivery] of deliveries) if (delivery.endpointId === id) deliveries.delete(key);
      return true;
    },
    async insertDeliveries(rows) {
      for (const row of rows) {
        const pair = `${row.endpointId}\u0000${row.eventId}`;
        if (pairs.has(pair)) continue;
        pairs.add(pair);
        deliveries.set(row.id, { ...row });
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
      const out: WebhookDelivery[] = [];
      for (const [endpointId, delivery] of oldest) {
        if (out.length >= limit) break;
        if (busy.has(endpointId) || endpoints.get(endpointId)?.status !== "enabled") continue;
        if (delivery.nextAttemptAt === null || delivery.nextAttemptAt > now) continue;
        leases.set(delivery.id, { owner, until: leaseUntil });
        out.push({ ...delivery });
      }
      return out;
    },
    async recordAttempt(id, owner, outcome) {
      const delivery = deliveries.get(id);
      if (delivery === undefined || leases.get(id)?.owner !== owner) return false;
      deliveries.set(id, { ...delivery, ...outcome });
      leases.delete(id);
      return true;
    },
    async listDeliveries(scope, endpointId, { limit, startingAfter }) {
      const mine = [...deliveries.values()]
        .filter((d) => d.endpointId === endpointId && inScope(d, scope))
        .sort((a, b) => b.sequence - a.sequence || (a.id < b.id ? 1 : -1));
      let start = 0;
      if (startingAfter !== undefined) {
        const index = mine.findIndex((d) => d.id === startingAfter);
        if (index < 0) return [];
        start = index + 1;
      }
      return mine.slice(start, start + limit).map((d) => ({ ...d }));
    },
    async getDelivery(scope, id) {
      const delivery = deliveries.get(id);
      return delivery !== undefined && inScope(delivery, scope) ? { ...delivery } : undefined;
    },
    async reviveDelivery(scope, id, now) {
      const delivery = deliveries.get(id);
      if (delivery === undefined || !inScope(delivery, scope) || delivery.status !== "dead") return undefined;
      const revived: WebhookDelivery = { ...delivery, status: "pending", nextAttemptAt: now, updatedAt: now };
      deliveries.set(id, revived);
      return { ...revived };
    },
  };
}
