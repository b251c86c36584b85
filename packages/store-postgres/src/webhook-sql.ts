/** The SQL of the PostgreSQL store's webhook port: endpoints, deliveries and their leases. */
import { type PreparedStatement, preparedStatement } from "./sql.js";

/** The statements of the webhook store on one schema (quoted); tests `EXPLAIN` them. */
export interface WebhookStatements {
  /** Parameters: the endpoint's ten columns, in table order. */
  readonly insertEndpoint: PreparedStatement;
  /** Parameters: id, account, livemode. */
  readonly getEndpoint: PreparedStatement;
  /** Parameters: account, livemode. */
  readonly listEndpoints: PreparedStatement;
  /** Parameters: id, account, livemode, status, disabled reason, failing since. */
  readonly updateEndpoint: PreparedStatement;
  /** Parameters: id, account, livemode. */
  readonly deleteEndpoint: PreparedStatement;
  /** Parameter: the deliveries as a JSON array of `WebhookDelivery` objects. */
  readonly insertDeliveries: PreparedStatement;
  /** The lease lock (parameters: the key pair), taken before {@link WebhookStatements.leaseDue}. */
  readonly leaseLock: PreparedStatement;
  /** Parameters: owner, now, lease end, limit. */
  readonly leaseDue: PreparedStatement;
  /** Parameters: id, owner, then the outcome's status, attempts, status code, error, next attempt, updated at. */
  readonly recordAttempt: PreparedStatement;
  /** Parameters: endpoint id, account, livemode, limit. */
  readonly listDeliveries: PreparedStatement;
  /** {@link WebhookStatements.listDeliveries} after the delivery whose id is the fifth parameter. */
  readonly listDeliveriesAfter: PreparedStatement;
  /** Parameters: id, account, livemode. */
  readonly getDelivery: PreparedStatement;
  /** Parameters: id, account, livemode, now. */
  readonly reviveDelivery: PreparedStatement;
}

const ENDPOINT_COLUMNS =
  "id, account_id, livemode, url, secret, events, status, disabled_reason, failing_since, created_at";

/** The columns a `WebhookDelivery` is read from (the lease stays inside the store). */
export const DELIVERY_COLUMNS = `id, endpoint_id, account_id, livemode, event_id, event_type, sequence, payload,
  status, attempts, last_status_code, last_error, next_attempt_at, created_at, updated_at`;

/** Builds the webhook store's statements for the quoted schema `s`. */
export function webhookStatements(s: string): WebhookStatements {
  const endpoints = `${s}.paylink_webhook_endpoints`;
  const deliveries = `${s}.paylink_webhook_deliveries`;
  const inScope = "id = $1 AND account_id = $2 AND livemode = $3";
  const listDeliveries = (after: string) => `SELECT ${DELIVERY_COLUMNS} FROM ${deliveries}
      WHERE endpoint_id = $1 AND account_id = $2 AND livemode = $3${after}
      ORDER BY sequence DESC, id DESC
      LIMIT $4`;
  return {
    insertEndpoint: preparedStatement(
      "insert_endpoint",
      `INSERT INTO ${endpoints} (${ENDPOINT_COLUMNS})
      VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::timestamptz, $10::timestamptz)`,
    ),
    getEndpoint: preparedStatement(
      "get_endpoint",
      `SELECT ${ENDPOINT_COLUMNS} FROM ${endpoints} WHERE ${inScope}`,
    ),
    listEndpoints: preparedStatement(
      "list_endpoints",
      `SELECT ${ENDPOINT_COLUMNS} FROM ${endpoints}
      WHERE account_id = $1 AND livemode = $2 ORDER BY created_at, id`,
    ),
    updateEndpoint: preparedStatement(
      "update_endpoint",
      `UPDATE ${endpoints} SET status = $4, disabled_reason = $5, failing_since = $6::timestamptz
      WHERE ${inScope}`,
    ),
    // Its deliveries go with it (ON DELETE CASCADE), in the same statement.
    deleteEndpoint: preparedStatement("delete_endpoint", `DELETE FROM ${endpoints} WHERE ${inScope}`),
    // The endpoint's row is locked (KEY SHARE) before its deliveries go in: a concurrent delete either
    // committed first, and the row is skipped with its deliveries, or waits for this INSERT to commit
    // and then cascades to them. ON CONFLICT DO NOTHING skips a pair (or an id) already stored, also
    // when it repeats within the array.
    insertDeliveries: preparedStatement(
      "insert_deliveries",
      `INSERT INTO ${deliveries} (${DELIVERY_COLUMNS})
      SELECT d.id, d."endpointId", d."accountId", d.livemode, d."eventId", d."eventType", d.sequence,
        d.payload, d.status, d.attempts, d."lastStatusCode", d."lastError", d."nextAttemptAt",
        d."createdAt", d."updatedAt"
      FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id text, "endpointId" text, "accountId" text,
          livemode boolean, "eventId" text, "eventType" text, sequence bigint, payload text, status text,
          attempts integer, "lastStatusCode" integer, "lastError" text, "nextAttemptAt" timestamptz,
          "createdAt" timestamptz, "updatedAt" timestamptz)) WITH ORDINALITY
          AS d(id, "endpointId", "accountId", livemode, "eventId", "eventType", sequence, payload, status,
            attempts, "lastStatusCode", "lastError", "nextAttemptAt", "createdAt", "updatedAt", position)
        JOIN ${endpoints} e ON e.id = d."endpointId"
      ORDER BY d.position
      FOR KEY SHARE OF e
      ON CONFLICT DO NOTHING`,
    ),
    leaseLock: preparedStatement("lease_lock", "SELECT pg_advisory_xact_lock($1::int4, $2::int4)"),
    // `heads`: each endpoint's oldest pending delivery, one index probe per endpoint that has one (a
    // skip scan of the partial index: the first entry after the previous endpoint's), so a long backlog
    // behind a failing endpoint is never read. Then: enabled, due, and no delivery of the endpoint
    // leased right now. The conditions on the delivery's own row are repeated in the UPDATE, where
    // PostgreSQL re-checks them against the latest version of a row changed concurrently.
    leaseDue: preparedStatement(
      "lease_due",
      `WITH RECURSIVE heads AS (
        (SELECT endpoint_id, sequence, id, next_attempt_at FROM ${deliveries}
          WHERE status = 'pending' ORDER BY endpoint_id, sequence, id LIMIT 1)
        UNION ALL
        SELECT n.endpoint_id, n.sequence, n.id, n.next_attempt_at FROM heads h CROSS JOIN LATERAL (
          SELECT endpoint_id, sequence, id, next_attempt_at FROM ${deliveries}
          WHERE status = 'pending' AND endpoint_id > h.endpoint_id
          ORDER BY endpoint_id, sequence, id LIMIT 1
        ) n
      ),
      due AS (
        SELECT h.id FROM heads h JOIN ${endpoints} e ON e.id = h.endpoint_id
        WHERE e.status = 'enabled' AND h.next_attempt_at <= $2::timestamptz
          AND NOT EXISTS (
            SELECT 1 FROM ${deliveries} l
            WHERE l.endpoint_id = h.endpoint_id AND l.lease_until > $2::timestamptz
          )
        ORDER BY h.sequence, h.id
        LIMIT $4
      )
      UPDATE ${deliveries} d SET lease_owner = $1, lease_until = $3::timestamptz
      FROM due
      WHERE d.id = due.id AND d.status = 'pending' AND d.next_attempt_at <= $2::timestamptz
        AND (d.lease_until IS NULL OR d.lease_until <= $2::timestamptz)
      RETURNING ${DELIVERY_COLUMNS.replace(/\b(\w+)\b/g, "d.$1")}`,
    ),
    recordAttempt: preparedStatement(
      "record_attempt",
      `UPDATE ${deliveries} SET status = $3, attempts = $4, last_status_code = $5, last_error = $6,
        next_attempt_at = $7::timestamptz, updated_at = $8::timestamptz, lease_owner = NULL, lease_until = NULL
      WHERE id = $1 AND lease_owner = $2`,
    ),
    listDeliveries: preparedStatement("list_deliveries", listDeliveries("")),
    // An unknown cursor (or one of another endpoint or scope) makes the sub-select NULL, the row
    // comparison NULL, and the page empty.
    listDeliveriesAfter: preparedStatement(
      "list_deliveries_after",
      listDeliveries(`
        AND (sequence, id) < (
          SELECT sequence, id FROM ${deliveries}
          WHERE id = $5 AND endpoint_id = $1 AND account_id = $2 AND livemode = $3
        )`),
    ),
    getDelivery: preparedStatement(
      "get_delivery",
      `SELECT ${DELIVERY_COLUMNS} FROM ${deliveries} WHERE ${inScope}`,
    ),
    reviveDelivery: preparedStatement(
      "revive_delivery",
      `UPDATE ${deliveries} SET status = 'pending', next_attempt_at = $4::timestamptz, updated_at = $4::timestamptz
      WHERE ${inScope} AND status = 'dead'
      RETURNING ${DELIVERY_COLUMNS}`,
    ),
  };
}
