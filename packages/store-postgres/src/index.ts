/**
 * `@paylink/store-postgres` — Paylink's storage port on PostgreSQL, for many application instances
 * sharing one database. It takes the application's own `pg` Pool.
 * @packageDocumentation
 */
import {
  type DomainEvent,
  expirableStatuses,
  type IdempotencyRecord,
  type IdempotencyStore,
  type IdempotentWrite,
  KEY_LOST,
  type Payment,
  type PaymentRef,
  type PaymentStore,
  type Scope,
  type StoredEvent,
  type StoredPayment,
  type WriteResult,
} from "@paylink/core";
import {
  isConnectionLost,
  isSerializationFailure,
  isStalePreparedStatement,
  PostgresStoreError,
  wrap,
} from "./errors.js";
import {
  LOCK_NAMESPACE,
  lockKey,
  MIGRATIONS,
  type PreparedStatement,
  type Statements,
  statements,
} from "./sql.js";

export { PostgresStoreError, type PostgresStoreErrorKind } from "./errors.js";

/** What the store reads off a query result; `pg`'s `QueryResult` has it. */
export interface PostgresQueryResult {
  // `any` as in pg's own QueryResult: rows are shaped by the statement, and the store reads them by name.
  // biome-ignore lint/suspicious/noExplicitAny: rows are untyped driver output, narrowed where read
  readonly rows: any[];
  readonly rowCount: number | null;
}

/**
 * A statement as `pg`'s query config object: `name` makes it a named prepared statement, parsed and
 * planned once per connection (the driver remembers which names each connection has prepared).
 */
export interface PostgresQueryConfig {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

/** A connection checked out of a pool; `pg`'s `PoolClient` is one. */
export interface PostgresClient {
  query(textOrConfig: string | PostgresQueryConfig, values?: unknown[]): Promise<PostgresQueryResult>;
  /** Returns the connection to the pool; `true` (or an error) destroys it instead. */
  release(destroy?: boolean | Error): void;
}

/**
 * The part of a `pg` Pool the store uses (a structural type, so the store needs no runtime import of
 * `pg` and accepts any compatible pool). The store never ends the pool: it belongs to the application.
 * `query` takes text and values, or `pg`'s query config `{ name, text, values }`: the store sends its
 * frequent statements as named prepared statements.
 */
export interface PostgresPool {
  connect(): Promise<PostgresClient>;
  query(textOrConfig: string | PostgresQueryConfig, values?: unknown[]): Promise<PostgresQueryResult>;
}

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** The application's `pg` Pool (pg 8). Attach `pool.on("error", …)` as pg recommends. */
  readonly pool: PostgresPool;
  /**
   * The schema holding the store's tables (`paylink_payments`, `paylink_outbox`,
   * `paylink_idempotency_keys`, `paylink_migrations`). Default `public`. Any name is quoted safely;
   * at most 63 bytes, because PostgreSQL would silently truncate a longer one.
   */
  readonly schema?: string;
}

/** The PostgreSQL store: {@link PaymentStore} and {@link IdempotencyStore}, plus {@link PostgresStore.migrate}. */
export interface PostgresStore extends PaymentStore, IdempotencyStore {
  /**
   * Creates or upgrades the store's tables: versioned migrations recorded in `paylink_migrations`,
   * all in one transaction under an advisory lock, so it is idempotent and safe when several instances
   * start at once (the others wait, then find nothing to do). Run it once at startup.
   */
  migrate(): Promise<void>;
}

// Read off the machine, never restated: the statuses a due expiry moves to `expired`.
const DUE_STATUSES: readonly string[] = [...expirableStatuses("link")];

// PostgreSQL text and jsonb cannot hold U+0000, so no stored id or account can contain it: a lookup of
// such an id is answered "not found" without asking the database (as the reference store would).
const NUL = "\u0000";
const hasNul = (...texts: readonly string[]) => texts.some((text) => text.includes(NUL));

// An explicit level: a pool whose sessions default to SERIALIZABLE would turn a lost compare-and-swap
// into a serialization failure instead of an UPDATE of zero rows (see `write`).
const BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED";

/** `LIMIT` for a count: NaN → 0, Infinity → no limit (NULL), otherwise a non-negative integer. */
function toLimit(limit: number): number | null {
  if (Number.isNaN(limit)) return 0;
  if (limit === Number.POSITIVE_INFINITY) return null;
  return Math.max(0, Math.trunc(limit));
}

interface PaymentRow {
  readonly payment: Payment;
  readonly version: number;
}
interface ScopedPaymentRow extends PaymentRow {
  readonly id: string;
  readonly account_id: string;
  readonly livemode: boolean;
}
/** A `get` waiting for the next batch of reads. */
interface PendingGet {
  readonly scope: Scope;
  readonly id: string;
  readonly resolve: (record: StoredPayment | undefined) => void;
  readonly reject: (error: unknown) => void;
}
interface DueRow {
  readonly id: string;
  readonly account_id: string;
  readonly livemode: boolean;
}
interface EventRow {
  readonly sequence: string | number | bigint;
  readonly event: DomainEvent;
}
interface KeyRow {
  readonly key: string;
  readonly fingerprint: string;
  readonly response_status: number | null;
  readonly response_body: string | null;
  readonly created_at: Date | string;
  readonly token: string;
  readonly locked_until: Date | string;
}

/** An instant as ISO-8601; `-infinity` (a claim from before leases) as the earliest ISO time. */
const isoOf = (value: Date | string): string => {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? new Date(-8.64e15).toISOString() : date.toISOString();
};

function toIdempotencyRecord(row: KeyRow): IdempotencyRecord {
  return {
    key: row.key,
    fingerprint: row.fingerprint,
    response:
      row.response_status === null ? null : { status: row.response_status, body: row.response_body ?? "" },
    createdAt: new Date(row.created_at).toISOString(),
    token: row.token,
    lockedUntil: isoOf(row.locked_until),
  };
}

/**
 * A {@link PaymentStore} and {@link IdempotencyStore} on PostgreSQL, over the application's `pg` Pool.
 *
 * Guarantees:
 * - **compare-and-swap**: a write is one SQL statement, so one round trip and one transaction: the
 *   conditional `UPDATE … WHERE id AND scope AND version = expected` (a data-modifying CTE) and, in the
 *   same statement, its events, inserted only if that UPDATE matched a row. A state change and its
 *   events commit together or not at all. `insert` is likewise one statement. The statement runs with
 *   READ COMMITTED semantics: should the pool's sessions default to a stricter isolation level and the
 *   statement fail with a serialization failure (which writes nothing), the write is run again inside
 *   an explicit READ COMMITTED transaction.
 * - **outbox order**: every statement that writes events takes a transaction-level advisory lock in
 *   SHARED mode before drawing sequence numbers and keeps it until COMMIT; `readEvents` takes the same
 *   lock EXCLUSIVE before it reads, so it waits for every write that has drawn a sequence to commit or
 *   roll back, and sees them all: a reader paging with `sequence > after` never skips an event that
 *   commits later with a smaller sequence. Every committed event is returned, in sequence order,
 *   exactly once to a reader that pages by the last sequence it saw; a publisher that crashes between
 *   publishing and saving its cursor publishes again, so delivery is at least once and consumers dedupe
 *   by event id. Sequence order is commit order for the events of one payment and for any two writes
 *   of which one committed before the other began; only writes in flight at the same time (whose
 *   commit order is a race) may be numbered in the other order. Writers never wait for each other.
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

  /** Runs `work`, turning any driver failure into a {@link PostgresStoreError}. */
  async function guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw wrap(error);
    }
  }

  /**
   * Runs `work` in one READ COMMITTED transaction on one client: COMMIT when it returns true, ROLLBACK
   * when it returns false or throws. The client is always released; it is destroyed rather than pooled
   * when its connection may be broken. No user code runs while the transaction is open, and nothing is
   * awaited between statements but the client itself: a dropping connection surfaces as the rejection
   * of the statement in flight, and the client is released before any later socket event.
   */
  async function transaction(work: (client: PostgresClient) => Promise<boolean>): Promise<boolean> {
    let client: PostgresClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw wrap(error);
    }
    let destroy = false;
    try {
      await client.query(BEGIN);
      const commit = await work(client);
      // A COMMIT that fails for a lost connection leaves the outcome unknown; it rejects like any other
      // failure, and a retried command re-reads the version, so it can never apply twice.
      await client.query(commit ? "COMMIT" : "ROLLBACK");
      return commit;
    } catch (error) {
      // A connection whose prepared statement went stale keeps failing with it: replace the connection.
      destroy = isConnectionLost(error) || isStalePreparedStatement(error);
      if (!destroy) {
        try {
          await client.query("ROLLBACK");
        } catch {
          destroy = true;
        }
      }
      throw wrap(error);
    } finally {
      client.release(destroy);
    }
  }

  /**
   * Runs one write statement and answers whether it wrote the payment (one row back, or one row
   * affected). Alone on the pool it is its own transaction: one round trip. PostgreSQL runs it at the
   * session's default isolation, which the store does not own: under REPEATABLE READ or SERIALIZABLE a
   * lost race fails with a serialization failure (the statement wrote nothing) where READ COMMITTED
   * would re-check the row. Only then is it run again inside an explicit READ COMMITTED transaction
   * (three round trips), where it re-checks the row and answers `false` for a lost race.
   */
  async function write(
    statement: PreparedStatement,
    values: unknown[],
    scope: Scope,
    idempotency: IdempotentWrite | undefined,
  ): Promise<WriteResult> {
    const query = prepared(statement, values);
    if (idempotency !== undefined) return writeKeyed(query, scope, idempotency);
    try {
      return (await pool.query(query)).rowCount === 1;
    } catch (error) {
      if (!isSerializationFailure(error)) throw wrap(error);
    }
    return transaction(async (client) => (await client.query(query)).rowCount === 1);
  }

  /**
   * A write that carries its idempotency key's response (see `IdempotentWrite` in core), in one READ
   * COMMITTED transaction: first the key's answer, conditional on the claim's token (its row lock holds
   * off a takeover until COMMIT), then the payment's statement. Should either match no row, the
   * transaction is rolled back and nothing of it was written.
   */
  async function writeKeyed(
    query: PostgresQueryConfig,
    scope: Scope,
    idempotency: IdempotentWrite,
  ): Promise<WriteResult> {
    const { key, token, response } = idempotency;
    let lost = false;
    const written = await transaction(async (client) => {
      const answered = await client.query(sql.completeKey, [
        scope.accountId,
        scope.livemode,
        key,
        response.status,
        response.body,
        token,
      ]);
      if (answered.rowCount !== 1) {
        lost = true;
        return false;
      }
      return (await client.query(query)).rowCount === 1;
    });
    return lost ? KEY_LOST : written;
  }

  /** `statement` with its values, as `pg`'s query config of a named prepared statement. */
  const prepared = (statement: PreparedStatement, values: unknown[]): PostgresQueryConfig => ({
    name: statement.name,
    text: statement.text,
    values,
  });

  /**
   * The statement that writes `values` (the payment's) and appends `events`: `withEvent` and the event's
   * JSON and columns for exactly one, `withEvents` and the events as one JSON array for more.
   */
  const writeWithEvents = (
    withEvent: PreparedStatement,
    withEvents: PreparedStatement,
    values: unknown[],
    events: readonly DomainEvent[],
    scope: Scope,
    idempotency: IdempotentWrite | undefined,
  ) => {
    if (events.length === 1) {
      const event = events[0]!;
      return write(
        withEvent,
        [
          ...values,
          ...outboxLock,
          JSON.stringify(event),
          event.id,
          event.paymentId,
          event.accountId,
          event.livemode,
          event.type,
        ],
        scope,
        idempotency,
      );
    }
    return write(withEvents, [...values, ...outboxLock, JSON.stringify(events)], scope, idempotency);
  };

  const paymentColumns = (payment: Payment) =>
    [payment.status, payment.expiresAt, payment.createdAt] as const satisfies readonly unknown[];

  /** One read on its own: one round trip. */
  const getOne = (scope: Scope, id: string) =>
    guarded(async (): Promise<StoredPayment | undefined> => {
      const result = await pool.query(prepared(sql.get, [id, scope.accountId, scope.livemode]));
      const row = result.rows[0] as PaymentRow | undefined;
      // jsonb is parsed afresh for every read, so callers always get their own copy.
      return row === undefined ? undefined : { payment: row.payment, version: row.version };
    });

  // Reads that arrive in the same event-loop turn (concurrent commands, concurrent requests) are one
  // query, `id = ANY($1)`: one round trip and one statement for all of them instead of one each. The scope
  // is checked here, row by row, exactly as the single read's WHERE does. A read alone is the single
  // statement, as before; the batch costs it one `setImmediate`.
  let pendingGets: PendingGet[] = [];
  const flushGets = () => {
    const batch = pendingGets;
    pendingGets = [];
    if (batch.length === 1) {
      const only = batch[0]!;
      getOne(only.scope, only.id).then(only.resolve, only.reject);
      return;
    }
    const ids = [...new Set(batch.map((pending) => pending.id))];
    guarded(async () => (await pool.query(prepared(sql.getMany, [ids]))).rows as ScopedPaymentRow[]).then(
      (rows) => {
        const byId = new Map(rows.map((row) => [row.id, row]));
        const handedOut = new Set<string>();
        for (const pending of batch) {
          const row = byId.get(pending.id);
          if (
            row === undefined ||
            row.account_id !== pending.scope.accountId ||
            row.livemode !== pending.scope.livemode
          ) {
            pending.resolve(undefined);
            continue;
          }
          // Two reads of one id in a batch must not share an object: the second gets a copy.
          const payment = handedOut.has(row.id) ? structuredClone(row.payment) : row.payment;
          handedOut.add(row.id);
          pending.resolve({ payment, version: row.version });
        }
      },
      (error: unknown) => {
        for (const pending of batch) pending.reject(error);
      },
    );
  };

  return {
    get: (scope, id) => {
      if (hasNul(id, scope.accountId)) return Promise.resolve(undefined);
      return new Promise<StoredPayment | undefined>((resolve, reject) => {
        if (pendingGets.length === 0) setImmediate(flushGets);
        // The scope as it is now: the caller may reuse its object before the batch runs.
        pendingGets.push({
          scope: { accountId: scope.accountId, livemode: scope.livemode },
          id,
          resolve,
          reject,
        });
      });
    },

    insert: (scope, record, events, idempotency) =>
      guarded(async () => {
        const { payment, version } = record;
        const values = [
          payment.id,
          scope.accountId,
          scope.livemode,
          ...paymentColumns(payment),
          version,
          JSON.stringify(payment),
        ];
        // `false` when the id exists (in any scope): then nothing is written, events included.
        if (events.length === 0) return write(sql.insert, values, scope, idempotency);
        return writeWithEvents(sql.insertWithEvent, sql.insertWithEvents, values, events, scope, idempotency);
      }),

    compareAndSwap: (scope, next, expectedVersion, events, idempotency) =>
      guarded(async () => {
        const { payment, version } = next;
        if (hasNul(payment.id, scope.accountId)) return false;
        const values = [
          payment.id,
          scope.accountId,
          scope.livemode,
          expectedVersion,
          ...paymentColumns(payment),
          version,
          JSON.stringify(payment),
        ];
        // `false` for a stale version, another scope or a missing payment: then nothing is written.
        if (events.length === 0) return write(sql.compareAndSwap, values, scope, idempotency);
        return writeWithEvents(
          sql.compareAndSwapWithEvent,
          sql.compareAndSwapWithEvents,
          values,
          events,
          scope,
          idempotency,
        );
      }),

    findDue: (now, limit) =>
      guarded(async () => {
        const result = await pool.query(sql.findDue, [DUE_STATUSES, now, toLimit(limit)]);
        return (result.rows as DueRow[]).map(
          (row): PaymentRef => ({ scope: { accountId: row.account_id, livemode: row.livemode }, id: row.id }),
        );
      }),

    readEvents: (after, limit) =>
      guarded(async () => {
        if (after === Number.POSITIVE_INFINITY) return [];
        // Sequences are integers: `sequence > 2.5` is `sequence > 2`; NaN or negative reads from the start.
        const from = Number.isNaN(after) ? 0 : Math.max(0, Math.floor(after));
        // Writers draw sequences under the outbox lock in shared mode, and commit in any order. Taking it
        // exclusive waits for every write that has drawn a sequence to end (and holds off new ones), so
        // the read, a later statement with its own snapshot (READ COMMITTED), sees every committed event
        // up to the largest sequence drawn: any event committing later gets a larger one. Four round
        // trips, on the reader's side only; the lock is released at COMMIT, or with the connection.
        let rows: EventRow[] = [];
        await transaction(async (client) => {
          await client.query(prepared(sql.readEventsLock, [...outboxLock]));
          rows = (await client.query(prepared(sql.readEvents, [from, toLimit(limit)]))).rows as EventRow[];
          return true;
        });
        // int8 arrives as a string; sequences stay far below 2^53.
        return rows.map((row): StoredEvent => ({ sequence: Number(row.sequence), event: row.event }));
      }),

    list: (scope, { limit, startingAfter }) =>
      guarded(async () => {
        if (hasNul(scope.accountId) || (startingAfter !== undefined && hasNul(startingAfter))) return [];
        const base = [scope.accountId, scope.livemode, toLimit(limit)];
        const result =
          startingAfter === undefined
            ? await pool.query(prepared(sql.list, base))
            : await pool.query(prepared(sql.listAfter, [...base, startingAfter]));
        return (result.rows as { payment: Payment }[]).map((row) => row.payment);
      }),

    claimIdempotencyKey: (scope: Scope, record: IdempotencyRecord, expiredBefore: string) =>
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
          const existing = await pool.query(sql.existingKey, where);
          const row = existing.rows[0] as KeyRow | undefined;
          if (row !== undefined) return toIdempotencyRecord(row);
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
      await transaction(async (client) => {
        // Serializes concurrent migrators of this schema until COMMIT; the loser then sees every
        // version recorded and does nothing. DDL is transactional, so a failed step leaves no trace.
        await client.query(sql.migrateLock, [LOCK_NAMESPACE.migrate, schemaKey]);
        // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when it exists.
        const exists = await client.query(sql.schemaExists, [schema]);
        if (exists.rows.length === 0) await client.query(sql.createSchema);
        await client.query(sql.createMigrations);
        const applied = new Set(
          ((await client.query(sql.appliedMigrations)).rows as { version: number }[]).map(
            (row) => row.version,
          ),
        );
        for (const migration of MIGRATIONS) {
          if (applied.has(migration.version)) continue;
          for (const statement of migration.statements(sql.schema)) await client.query(statement);
          await client.query(sql.recordMigration, [migration.version, migration.name]);
        }
        return true;
      });
    },
  };
}
