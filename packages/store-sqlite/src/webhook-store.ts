/**
 * The store's {@link WebhookStore}: merchants' endpoints in `webhook_endpoints`, the deliveries of events
 * to them in `webhook_deliveries`, each with its lease (`lease_owner`, `lease_until`). Every write runs in
 * a group commit's `BEGIN IMMEDIATE` transaction, so a lease is atomic across processes on one file.
 */
import type { Scope } from "@paylink/core";
import { rowLimit, type WebhookDelivery, type WebhookEndpoint, type WebhookStore } from "@paylink/core/store";
import type { Access } from "./access.js";
import type { Connection } from "./connection.js";
import { scopeRow } from "./rows.js";

/** A row of `webhook_endpoints`. */
interface EndpointRow {
  readonly id: string;
  readonly account_id: string;
  readonly livemode: number;
  readonly url: string;
  readonly secret: string;
  readonly events: string | null;
  readonly status: WebhookEndpoint["status"];
  readonly disabled_reason: WebhookEndpoint["disabledReason"];
  readonly failing_since: string | null;
  readonly created_at: string;
}

/** A row of `webhook_deliveries` (its lease columns are never answered). */
interface DeliveryRow {
  readonly id: string;
  readonly endpoint_id: string;
  readonly account_id: string;
  readonly livemode: number;
  readonly event_id: string;
  readonly event_type: string;
  readonly sequence: number;
  readonly payload: string;
  readonly status: WebhookDelivery["status"];
  readonly attempts: number;
  readonly last_status_code: number | null;
  readonly last_error: string | null;
  readonly next_attempt_at: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

const endpointOf = (row: EndpointRow): WebhookEndpoint => ({
  id: row.id,
  accountId: row.account_id,
  livemode: row.livemode === 1,
  url: row.url,
  secret: row.secret,
  events: row.events === null ? null : (JSON.parse(row.events) as string[]),
  status: row.status,
  disabledReason: row.disabled_reason,
  failingSince: row.failing_since,
  createdAt: row.created_at,
});

const deliveryOf = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  endpointId: row.endpoint_id,
  accountId: row.account_id,
  livemode: row.livemode === 1,
  eventId: row.event_id,
  eventType: row.event_type,
  sequence: row.sequence,
  payload: row.payload,
  status: row.status,
  attempts: row.attempts,
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  nextAttemptAt: row.next_attempt_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** The named parameters of `insertDelivery`, taken when the store is called (see `write`). */
const deliveryParams = (d: WebhookDelivery) => ({
  id: d.id,
  endpointId: d.endpointId,
  accountId: d.accountId,
  livemode: d.livemode ? 1 : 0,
  eventId: d.eventId,
  eventType: d.eventType,
  sequence: d.sequence,
  payload: d.payload,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  nextAttemptAt: d.nextAttemptAt,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
});

/**
 * The oldest due pending delivery of each free enabled endpoint, leased to `owner`. Runs in a write
 * transaction: the rows read and the leases written are one atomic step for every other connection.
 */
function leaseDue(c: Connection, owner: string, now: string, leaseUntil: string, limit: number) {
  const rows = c.s.leaseDue.all({ now, limit }) as DeliveryRow[];
  for (const row of rows) c.s.leaseDelivery.run(owner, leaseUntil, row.id);
  return rows.map(deliveryOf);
}

/** A page of an endpoint's deliveries, cursor and page read from one snapshot. */
function listDeliveries(
  c: Connection,
  scope: Scope,
  endpointId: string,
  limit: number,
  startingAfter: string | undefined,
): WebhookDelivery[] {
  const { accountId, livemode } = scopeRow(scope);
  const page = c.db.transaction((): DeliveryRow[] => {
    if (startingAfter === undefined)
      return c.s.deliveriesFirst.all(endpointId, accountId, livemode, limit) as DeliveryRow[];
    const cursor = c.s.deliveryCursor.get(startingAfter, endpointId, accountId, livemode) as
      | { sequence: number; id: string }
      | undefined;
    if (cursor === undefined) return [];
    return c.s.deliveriesAfter.all(
      endpointId,
      accountId,
      livemode,
      cursor.sequence,
      cursor.id,
      limit,
    ) as DeliveryRow[];
  });
  return page.deferred().map(deliveryOf);
}

/** The {@link WebhookStore} methods over `io`. */
export function sqliteWebhookStore({ read, write }: Access): WebhookStore {
  return {
    insertEndpoint: (endpoint) => {
      const params = {
        id: endpoint.id,
        accountId: endpoint.accountId,
        livemode: endpoint.livemode ? 1 : 0,
        url: endpoint.url,
        secret: endpoint.secret,
        events: endpoint.events === null ? null : JSON.stringify(endpoint.events),
        status: endpoint.status,
        disabledReason: endpoint.disabledReason,
        failingSince: endpoint.failingSince,
        createdAt: endpoint.createdAt,
      };
      return write((c) => {
        c.s.insertEndpoint.run(params);
      });
    },
    getEndpoint: (scope, id) => {
      const { accountId, livemode } = scopeRow(scope);
      return read((c) => {
        const row = c.s.getEndpoint.get(id, accountId, livemode) as EndpointRow | undefined;
        return row === undefined ? undefined : endpointOf(row);
      });
    },
    listEndpoints: (scope) => {
      const { accountId, livemode } = scopeRow(scope);
      return read((c) => (c.s.listEndpoints.all(accountId, livemode) as EndpointRow[]).map(endpointOf));
    },
    updateEndpoint: (scope, id, { status, disabledReason, failingSince }) => {
      const params = { id, ...scopeRow(scope), status, disabledReason, failingSince };
      return write((c) => c.s.updateEndpoint.run(params).changes === 1);
    },
    deleteEndpoint: (scope, id) => {
      const { accountId, livemode } = scopeRow(scope);
      return write((c) => {
        if (c.s.deleteEndpoint.run(id, accountId, livemode).changes === 0) return false;
        c.s.deleteEndpointDeliveries.run(id);
        return true;
      });
    },
    insertDeliveries: (deliveries) => {
      const rows = deliveries.map(deliveryParams);
      return write((c) => {
        for (const row of rows) c.s.insertDelivery.run(row);
      });
    },
    leaseDueDeliveries: (owner, now, leaseUntil, limit) =>
      write((c) => leaseDue(c, owner, now, leaseUntil, rowLimit(limit))),
    recordAttempt: (id, owner, outcome) => {
      const params = {
        id,
        owner,
        status: outcome.status,
        attempts: outcome.attempts,
        lastStatusCode: outcome.lastStatusCode,
        lastError: outcome.lastError,
        nextAttemptAt: outcome.nextAttemptAt,
        updatedAt: outcome.updatedAt,
      };
      return write((c) => c.s.recordAttempt.run(params).changes === 1);
    },
    listDeliveries: (scope, endpointId, { limit, startingAfter }) =>
      read((c) => listDeliveries(c, scope, endpointId, rowLimit(limit), startingAfter)),
    getDelivery: (scope, id) => {
      const { accountId, livemode } = scopeRow(scope);
      return read((c) => {
        const row = c.s.getDelivery.get(id, accountId, livemode) as DeliveryRow | undefined;
        return row === undefined ? undefined : deliveryOf(row);
      });
    },
    reviveDelivery: (scope, id, now) => {
      const params = { id, now, ...scopeRow(scope) };
      return write((c) => {
        const row = c.s.reviveDelivery.get(params) as DeliveryRow | undefined;
        return row === undefined ? undefined : deliveryOf(row);
      });
    },
  };
}
