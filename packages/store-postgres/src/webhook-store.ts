/**
 * The {@link WebhookStore} on PostgreSQL: `paylink_webhook_endpoints` and `paylink_webhook_deliveries`,
 * each delivery with its lease (owner and end). The statements are in webhook-sql.ts.
 */
import type { Scope } from "@paylink/core";
import { rowLimit, type WebhookDelivery, type WebhookEndpoint, type WebhookStore } from "@paylink/core/store";
import { guarded, hasNul } from "./errors.js";
import { type PostgresPool, prepared, transaction } from "./pool.js";
import { iso, isoOrNull, type TimeValue } from "./rows.js";
import { webhookStatements } from "./webhook-sql.js";

interface EndpointRow {
  readonly id: string;
  readonly account_id: string;
  readonly livemode: boolean;
  readonly url: string;
  readonly secret: string;
  readonly events: string[] | null;
  readonly status: WebhookEndpoint["status"];
  readonly disabled_reason: WebhookEndpoint["disabledReason"];
  readonly failing_since: TimeValue | null;
  readonly created_at: TimeValue;
}

interface DeliveryRow {
  readonly id: string;
  readonly endpoint_id: string;
  readonly account_id: string;
  readonly livemode: boolean;
  readonly event_id: string;
  readonly event_type: string;
  readonly sequence: string | number;
  readonly payload: string;
  readonly status: WebhookDelivery["status"];
  readonly attempts: number;
  readonly last_status_code: number | null;
  readonly last_error: string | null;
  readonly next_attempt_at: TimeValue | null;
  readonly created_at: TimeValue;
  readonly updated_at: TimeValue;
}

const endpointOf = (row: EndpointRow): WebhookEndpoint => ({
  id: row.id,
  accountId: row.account_id,
  livemode: row.livemode,
  url: row.url,
  secret: row.secret,
  events: row.events,
  status: row.status,
  disabledReason: row.disabled_reason,
  failingSince: isoOrNull(row.failing_since),
  createdAt: iso(row.created_at),
});

const deliveryOf = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  endpointId: row.endpoint_id,
  accountId: row.account_id,
  livemode: row.livemode,
  eventId: row.event_id,
  eventType: row.event_type,
  sequence: Number(row.sequence),
  payload: row.payload,
  status: row.status,
  attempts: row.attempts,
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  nextAttemptAt: isoOrNull(row.next_attempt_at),
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
});

// Sequences are unique per endpoint; the id breaks ties between endpoints.
const bySequence = (a: WebhookDelivery, b: WebhookDelivery) =>
  a.sequence - b.sequence || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The {@link WebhookStore} of the schema `s` (quoted) on `pool`; `leaseLock` is the key pair of its
 * schema's lease lock. Times are compared as instants (`timestamptz`) and answered as ISO-8601 in UTC
 * with milliseconds. Every row is read into a new object.
 *
 * Leases: `leaseDueDeliveries` takes the lease lock, exclusive, then leases in a later statement of the
 * same READ COMMITTED transaction, so leasing dispatchers take turns and each one's statement starts
 * after the previous one committed. It therefore sees every lease granted so far: no delivery is leased
 * twice, and no endpoint gets a second delivery leased while one is (one statement alone could not
 * promise the second: a delivery made pending again by `reviveDelivery`, older than the one a
 * concurrent statement leases, would look free to a statement whose snapshot predates that lease).
 * Only leasing takes the lock; a lease is one `UPDATE … RETURNING`, so the turn is short.
 */
export function createWebhookStore(
  pool: PostgresPool,
  s: string,
  leaseLock: readonly [number, number],
): WebhookStore {
  const sql = webhookStatements(s);
  const scoped = (scope: Scope, id: string) => [id, scope.accountId, scope.livemode];

  return {
    insertEndpoint: (endpoint) =>
      guarded(async () => {
        await pool.query(
          prepared(sql.insertEndpoint, [
            endpoint.id,
            endpoint.accountId,
            endpoint.livemode,
            endpoint.url,
            endpoint.secret,
            endpoint.events === null ? null : JSON.stringify(endpoint.events),
            endpoint.status,
            endpoint.disabledReason,
            endpoint.failingSince,
            endpoint.createdAt,
          ]),
        );
      }),

    getEndpoint: (scope, id) =>
      guarded(async () => {
        if (hasNul(scope.accountId, id)) return undefined;
        const row = (await pool.query(prepared(sql.getEndpoint, scoped(scope, id)))).rows[0];
        return row === undefined ? undefined : endpointOf(row as EndpointRow);
      }),

    listEndpoints: (scope) =>
      guarded(async () => {
        if (hasNul(scope.accountId)) return [];
        const { rows } = await pool.query(prepared(sql.listEndpoints, [scope.accountId, scope.livemode]));
        return (rows as EndpointRow[]).map(endpointOf);
      }),

    updateEndpoint: (scope, id, { status, disabledReason, failingSince }) =>
      guarded(async () => {
        if (hasNul(scope.accountId, id)) return false;
        const values = [...scoped(scope, id), status, disabledReason, failingSince];
        return (await pool.query(prepared(sql.updateEndpoint, values))).rowCount === 1;
      }),

    deleteEndpoint: (scope, id) =>
      guarded(async () => {
        if (hasNul(scope.accountId, id)) return false;
        return (await pool.query(prepared(sql.deleteEndpoint, scoped(scope, id)))).rowCount === 1;
      }),

    insertDeliveries: (deliveries) =>
      guarded(async () => {
        if (deliveries.length === 0) return;
        await pool.query(prepared(sql.insertDeliveries, [JSON.stringify(deliveries)]));
      }),

    leaseDueDeliveries: (owner, now, leaseUntil, limit) =>
      guarded(async () => {
        const rows = rowLimit(limit);
        if (rows === 0) return [];
        let leased: WebhookDelivery[] = [];
        await transaction(pool, async (client) => {
          await client.query(prepared(sql.leaseLock, [...leaseLock]));
          const result = await client.query(prepared(sql.leaseDue, [owner, now, leaseUntil, rows]));
          leased = (result.rows as DeliveryRow[]).map(deliveryOf);
          return true;
        });
        return leased.sort(bySequence);
      }),

    recordAttempt: (id, owner, outcome) =>
      guarded(async () => {
        if (hasNul(id, owner)) return false;
        const result = await pool.query(
          prepared(sql.recordAttempt, [
            id,
            owner,
            outcome.status,
            outcome.attempts,
            outcome.lastStatusCode,
            outcome.lastError,
            outcome.nextAttemptAt,
            outcome.updatedAt,
          ]),
        );
        return result.rowCount === 1;
      }),

    listDeliveries: (scope, endpointId, { limit, startingAfter }) =>
      guarded(async () => {
        if (hasNul(scope.accountId, endpointId, startingAfter ?? "")) return [];
        const base = [endpointId, scope.accountId, scope.livemode, rowLimit(limit)];
        const { rows } =
          startingAfter === undefined
            ? await pool.query(prepared(sql.listDeliveries, base))
            : await pool.query(prepared(sql.listDeliveriesAfter, [...base, startingAfter]));
        return (rows as DeliveryRow[]).map(deliveryOf);
      }),

    getDelivery: (scope, id) =>
      guarded(async () => {
        if (hasNul(scope.accountId, id)) return undefined;
        const row = (await pool.query(prepared(sql.getDelivery, scoped(scope, id)))).rows[0];
        return row === undefined ? undefined : deliveryOf(row as DeliveryRow);
      }),

    reviveDelivery: (scope, id, now) =>
      guarded(async () => {
        if (hasNul(scope.accountId, id)) return undefined;
        const row = (await pool.query(prepared(sql.reviveDelivery, [...scoped(scope, id), now]))).rows[0];
        return row === undefined ? undefined : deliveryOf(row as DeliveryRow);
      }),
  };
}
