/**
 * The SQL of the delivery ports (sink cursors, webhook endpoints and deliveries, the event feed),
 * prepared once per connection with the rest of `SQL`. Internal: tests read it to check query plans.
 * Every value is a bound parameter; the named ones (`@now` …) are bound from an object.
 */

/**
 * The oldest pending delivery of each enabled endpoint that has no delivery leased now, if it is due,
 * most overdue first. The literal `'pending'` (not a parameter) lets SQLite use the partial index of
 * pending deliveries, and `lease_until > @now` the partial index of leased ones; a test checks the plan.
 */
export const LEASE_DUE_SQL = `SELECT d.* FROM webhook_endpoints AS e
  JOIN webhook_deliveries AS d ON d.id = (
    SELECT p.id FROM webhook_deliveries AS p
    WHERE p.endpoint_id = e.id AND p.status = 'pending'
    ORDER BY p.sequence LIMIT 1)
  WHERE e.status = 'enabled'
    AND d.next_attempt_at <= @now
    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS l WHERE l.endpoint_id = e.id AND l.lease_until > @now)
  ORDER BY d.next_attempt_at, d.sequence, d.id
  LIMIT @limit`;

/** An endpoint's deliveries in a scope, newest first; served by `webhook_deliveries_list`. */
export const DELIVERIES_FIRST_SQL = `SELECT * FROM webhook_deliveries
  WHERE endpoint_id = ? AND account_id = ? AND livemode = ?
  ORDER BY sequence DESC, id DESC LIMIT ?`;

/** The page after a cursor `(sequence, id)`; served by `webhook_deliveries_list`. */
export const DELIVERIES_AFTER_SQL = `SELECT * FROM webhook_deliveries
  WHERE endpoint_id = ? AND account_id = ? AND livemode = ? AND (sequence, id) < (?, ?)
  ORDER BY sequence DESC, id DESC LIMIT ?`;

/**
 * A scope's events after a sequence, oldest first: a walk of the outbox's primary key from the cursor
 * (see event-feed.ts for why there is no index by scope).
 */
export const EVENTS_SQL = `SELECT sequence, event FROM outbox
  WHERE sequence > ? AND account_id = ? AND livemode = ?
  ORDER BY sequence LIMIT ?`;

/** {@link EVENTS_SQL} for one payment's events. */
export const PAYMENT_EVENTS_SQL = `SELECT sequence, event FROM outbox
  WHERE sequence > ? AND account_id = ? AND livemode = ? AND payment_id = ?
  ORDER BY sequence LIMIT ?`;

/** The delivery statements, prepared at open with the rest of `SQL`. */
export const DELIVERY_SQL = {
  // One statement, so atomic across processes: a new sink starts at 0; an existing one is taken only
  // when free, lapsed or already `owner`'s. A refused update returns no row.
  claimSink: `INSERT INTO relay_sinks (sink, position, owner, lease_until) VALUES (@sink, 0, @owner, @leaseUntil)
    ON CONFLICT (sink) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
      WHERE relay_sinks.owner IS NULL OR relay_sinks.owner = excluded.owner
        OR relay_sinks.lease_until IS NULL OR relay_sinks.lease_until <= @now
    RETURNING position`,
  advanceSink: `UPDATE relay_sinks SET position = max(position, @position), lease_until = @leaseUntil
    WHERE sink = @sink AND owner = @owner`,
  releaseSink: "UPDATE relay_sinks SET owner = NULL, lease_until = NULL WHERE sink = ? AND owner = ?",
  sinkPositions: "SELECT sink, position, owner, lease_until FROM relay_sinks ORDER BY sink",
  // The primary key's last entry: one B-tree descent.
  lastSequence: "SELECT coalesce(max(sequence), 0) FROM outbox",

  insertEndpoint: `INSERT INTO webhook_endpoints
      (id, account_id, livemode, url, secret, events, status, disabled_reason, failing_since, created_at)
    VALUES (@id, @accountId, @livemode, @url, @secret, @events, @status, @disabledReason, @failingSince, @createdAt)`,
  getEndpoint: "SELECT * FROM webhook_endpoints WHERE id = ? AND account_id = ? AND livemode = ?",
  listEndpoints: `SELECT * FROM webhook_endpoints WHERE account_id = ? AND livemode = ?
    ORDER BY created_at, id`,
  updateEndpoint: `UPDATE webhook_endpoints
    SET status = @status, disabled_reason = @disabledReason, failing_since = @failingSince
    WHERE id = @id AND account_id = @accountId AND livemode = @livemode`,
  deleteEndpoint: "DELETE FROM webhook_endpoints WHERE id = ? AND account_id = ? AND livemode = ?",
  deleteEndpointDeliveries: "DELETE FROM webhook_deliveries WHERE endpoint_id = ?",

  // Skips a pair (endpoint, event) stored already (the UNIQUE constraint, not a check-then-insert) and a
  // delivery whose endpoint is gone.
  insertDelivery: `INSERT INTO webhook_deliveries
      (id, endpoint_id, account_id, livemode, event_id, event_type, sequence, payload, status, attempts,
       last_status_code, last_error, next_attempt_at, created_at, updated_at)
    SELECT @id, @endpointId, @accountId, @livemode, @eventId, @eventType, @sequence, @payload, @status,
      @attempts, @lastStatusCode, @lastError, @nextAttemptAt, @createdAt, @updatedAt
    WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = @endpointId)
    ON CONFLICT DO NOTHING`,
  leaseDue: LEASE_DUE_SQL,
  leaseDelivery: "UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?",
  // The owner check and the write are one statement: a lease taken over changes nothing.
  recordAttempt: `UPDATE webhook_deliveries
    SET status = @status, attempts = @attempts, last_status_code = @lastStatusCode, last_error = @lastError,
      next_attempt_at = @nextAttemptAt, updated_at = @updatedAt, lease_owner = NULL, lease_until = NULL
    WHERE id = @id AND lease_owner = @owner`,
  deliveriesFirst: DELIVERIES_FIRST_SQL,
  deliveriesAfter: DELIVERIES_AFTER_SQL,
  deliveryCursor: `SELECT sequence, id FROM webhook_deliveries
    WHERE id = ? AND endpoint_id = ? AND account_id = ? AND livemode = ?`,
  getDelivery: "SELECT * FROM webhook_deliveries WHERE id = ? AND account_id = ? AND livemode = ?",
  reviveDelivery: `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = @now, updated_at = @now
    WHERE id = @id AND account_id = @accountId AND livemode = @livemode AND status = 'dead'
    RETURNING *`,

  eventCursor: "SELECT sequence FROM outbox WHERE event_id = ? AND account_id = ? AND livemode = ?",
  events: EVENTS_SQL,
  paymentEvents: PAYMENT_EVENTS_SQL,
} as const;
