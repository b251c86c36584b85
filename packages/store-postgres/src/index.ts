/**
 * `@paylink/store-postgres` — Paylink's storage port on PostgreSQL, for many application instances
 * sharing one database. It takes the application's own `pg` Pool.
 * @packageDocumentation
 */
import type { Scope } from "@paylink/core";
import {
  batchReads,
  type DeliveryStore,
  DUE_STATUSES,
  type IdempotencyStore,
  type PaymentStore,
  rowLimit,
  type StoredPayment,
} from "@paylink/core/store";
import { guarded, hasNul, PostgresStoreError } from "./errors.js";
import { createEventFeed } from "./event-feed.js";
import { migrate } from "./migrations.js";
import { type PostgresPool, prepared, transaction } from "./pool.js";
import { createRelayStore } from "./relay-store.js";
import {
  type EventRow,
  eventOf,
  type KeyRow,
  keyRecord,
  type PaymentRow,
  refOf,
  type ScopedPaymentRow,
  scopedOf,
  storedOf,
} from "./rows.js";
import { LOCK_NAMESPACE, lockKey, type Statements, statements } from "./sql.js";
import { createWebhookStore } from "./webhook-store.js";
import { createWriter } from "./writes.js";

export { PostgresStoreError, type PostgresStoreErrorCode } from "./errors.js";
export type { PostgresClient, PostgresPool, PostgresQueryConfig, PostgresQueryResult } from "./pool.js";

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** The application's `pg` Pool (pg 8). Attach `pool.on("error", …)` as pg recommends. */
  readonly pool: PostgresPool;
  /**
   * The schema holding the store's tables (`paylink_payments`, `paylink_outbox`,
   * `paylink_idempotency_keys`, `paylink_sink_cursors`, `paylink_webhook_endpoints`,
   * `paylink_webhook_deliveries`, `paylink_migrations`). Default `public`. Any name is quoted safely;
   * at most 63 bytes, because PostgreSQL would silently truncate a longer one.
   */
  readonly schema?: string;
}

/**
 * The PostgreSQL store: {@link PaymentStore}, {@link IdempotencyStore} and, for event delivery,
 * {@link DeliveryStore} (sink cursors, webhook endpoints and deliveries, the event feed), plus
 * {@link PostgresStore.migrate}.
 */
export interface PostgresStore extends PaymentStore, IdempotencyStore, DeliveryStore {
  /**
   * Creates or upgrades the store's tables: versioned migrations recorded in `paylink_migrations`,
   * all in one transaction under an advisory lock, so it is idempotent and safe when several instances
   * start at once (the others wait, then find nothing to do). Run it once at startup.
   */
  migrate(): Promise<void>;
}

/**
 * A {@link PaymentStore}, {@link IdempotencyStore} and {@link DeliveryStore} on PostgreSQL, over the
 * application's `pg` Pool.
 *
 * Guarantees:
 * - **compare-and-swap**: a write is one SQL statement, so one round trip and one transaction: the
 *   conditional `UPDATE … WHERE id AND scope AND version = expected` (a data-modifying CTE) and, in the
 *   same statement, its events, inserted only if that UPDATE matched a row. A state change and its
 *   events commit together or not at all. `insert` is likewise one statement. The statement runs with
 *   READ COMMITTED semantics, whatever the pool's default isolation.
 * - **outbox order**: every committed event is returned by `readEvents`, in sequence order, exactly once
 *   to a reader that pages by the last sequence it saw (an advisory lock that writers share and readers
 *   take exclusive; the argument is at `appendEvents` in sql.ts). Sequence order is commit order for the
 *   events of one payment and for any two writes of which one committed before the other began.
 * - **reads**: the `get`s of one event-loop turn are one `id = ANY($1)` statement (`batchReads`).
 * - **delivery**: relays and dispatchers in many processes share one database through leases:
 *   `claimSink` is one conditional upsert, `advanceSink` and `recordAttempt` are conditional on the
 *   lease's owner, and `leaseDueDeliveries` leases under a lock of its own, so no delivery is leased
 *   twice and no endpoint has two deliveries leased at once (see webhook-store.ts). `listEvents` shows
 *   events up to a horizon read under the outbox lock, so a client paging it never skips an event
 *   (see event-feed.ts). Times are compared as instants, not as text.
 * - **errors**: every method rejects with a {@link PostgresStoreError} whose message is a fixed string
 *   (never the driver's text); the driver's error is its `cause`. Clients are always released, a failed
 *   statement writes nothing, and a failed transaction is rolled back.
 *
 * @example
 * import pg from "pg";
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = createPostgresStore({ pool });
 * await store.migrate();
 * const links = createPaymentLinks({ store });
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const { pool } = options;
  const schema = options.schema ?? "public";
  const sql: Statements = statements(schema); // validates and quotes the schema name
  const schemaKey = lockKey(schema);
  const outboxLock = [LOCK_NAMESPACE.outbox, schemaKey] as const;
  const writer = createWriter(pool, sql, outboxLock);
  const delivery: DeliveryStore = {
    ...createRelayStore(pool, sql.schema),
    ...createWebhookStore(pool, sql.schema, [LOCK_NAMESPACE.deliveries, schemaKey]),
    ...createEventFeed(pool, sql, outboxLock),
  };

  const reads = batchReads({
    readOne: (scope, id) =>
      guarded(async (): Promise<StoredPayment | undefined> => {
        const row = (await pool.query(prepared(sql.get, [id, scope.accountId, scope.livemode]))).rows[0];
        return row === undefined ? undefined : storedOf(row as PaymentRow);
      }),
    readMany: (ids) =>
      guarded(async () =>
        ((await pool.query(prepared(sql.getMany, [ids]))).rows as ScopedPaymentRow[]).map(scopedOf),
      ),
  });

  return {
    ...delivery,

    get: (scope, id) => (hasNul(id, scope.accountId) ? Promise.resolve(undefined) : reads.get(scope, id)),

    insert: (scope, record, events, idempotency) => writer.insert(scope, record, events, idempotency),

    compareAndSwap: (scope, next, expectedVersion, events, idempotency) =>
      hasNul(next.payment.id, scope.accountId)
        ? Promise.resolve(false)
        : writer.compareAndSwap(scope, next, expectedVersion, events, idempotency),

    findDue: (now, limit) =>
      guarded(async () => {
        const result = await pool.query(sql.findDue, [DUE_STATUSES, now, rowLimit(limit)]);
        return result.rows.map(refOf);
      }),

    readEvents: (after, limit) =>
      guarded(async () => {
        if (after === Number.POSITIVE_INFINITY) return [];
        // Sequences are integers: `sequence > 2.5` is `sequence > 2`; NaN or negative reads from the start.
        const from = Number.isNaN(after) ? 0 : Math.max(0, Math.floor(after));
        // The outbox lock, exclusive, then the read in a later statement of the same READ COMMITTED
        // transaction (see `appendEvents` in sql.ts for why that read misses no committed event).
        let rows: EventRow[] = [];
        await transaction(pool, async (client) => {
          await client.query(prepared(sql.readEventsLock, [...outboxLock]));
          rows = (await client.query(prepared(sql.readEvents, [from, rowLimit(limit)]))).rows;
          return true;
        });
        return rows.map(eventOf);
      }),

    list: (scope, { limit, startingAfter }) =>
      guarded(async () => {
        if (hasNul(scope.accountId) || (startingAfter !== undefined && hasNul(startingAfter))) return [];
        const base = [scope.accountId, scope.livemode, rowLimit(limit)];
        const result =
          startingAfter === undefined
            ? await pool.query(prepared(sql.list, base))
            : await pool.query(prepared(sql.listAfter, [...base, startingAfter]));
        return result.rows.map((row) => (row as PaymentRow).payment);
      }),

    claimIdempotencyKey: (scope: Scope, record, expiredBefore) =>
      guarded(async () => {
        const where = [scope.accountId, scope.livemode, record.key];
        // Two statements: the upsert cannot return the row it conflicted with, and a plain SELECT in the
        // same statement would not see a concurrent claim that committed after the statement began.
        for (let attempt = 0; attempt < 5; attempt++) {
          const claimed = await pool.query(sql.claimKey, [
            ...where,
            record.fingerprint,
            record.response?.status ?? null,
            record.response?.body ?? null,
            expiredBefore,
            record.createdAt,
            record.token,
            record.lockedUntil,
          ]);
          if (claimed.rowCount === 1) return undefined;
          const row = (await pool.query(sql.existingKey, where)).rows[0] as KeyRow | undefined;
          if (row !== undefined) return keyRecord(row);
          // The holder released the key between the two statements: claim it again.
        }
        throw new PostgresStoreError("query");
      }),

    completeIdempotencyKey: (scope, key, token, response) =>
      guarded(async () => {
        if (hasNul(scope.accountId, key, token)) return;
        await pool.query(sql.completeKey, [
          scope.accountId,
          scope.livemode,
          key,
          response.status,
          response.body,
          token,
        ]);
      }),

    releaseIdempotencyKey: (scope, key, token) =>
      guarded(async () => {
        if (hasNul(scope.accountId, key, token)) return;
        await pool.query(sql.releaseKey, [scope.accountId, scope.livemode, key, token]);
      }),

    async migrate() {
      await transaction(pool, async (client) => {
        await migrate(client, sql, schema, schemaKey);
        return true;
      });
    },
  };
}
