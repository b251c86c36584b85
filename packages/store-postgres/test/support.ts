/**
 * Where the store-postgres tests run. With `PAYLINK_PG_URL` set and the server answering: that server,
 * every store in a schema of its own, dropped afterwards. Otherwise: PGlite (PostgreSQL compiled to
 * WASM, in-process) behind pg's own Pool through PGlite's node-postgres adapter — the same driver code
 * path as production, but a single connection, so the multi-connection tests are skipped by name.
 */
import { readFileSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import type { DomainEvent, Scope, StoredPayment } from "@paylink/core";
import type { StoreProbe } from "@paylink/testing";
import pg from "pg";
import { createPostgresStore, type PostgresStore } from "../src/index.js";

/** The server the suite should use, if any. */
export const PG_URL = process.env.PAYLINK_PG_URL || undefined;
/** Set by CI: a run that would skip the server suite must fail instead. */
export const REQUIRE_PG = process.env.PAYLINK_REQUIRE_PG === "1";

/** Where a test file's databases live. */
export interface Backend {
  readonly kind: "server" | "pglite";
  /** Why the server suite is not running (`null` when it is). */
  readonly serverMissing: string | null;
  /** A new pool (`max` connections on a server; always one on PGlite). Closed by {@link Backend.close}. */
  pool(max?: number, options?: pg.PoolConfig): Promise<pg.Pool>;
  /** Ends pools a test no longer needs, so that a file's connections do not pile up on the server. */
  end(...pools: pg.Pool[]): Promise<void>;
  /** A fresh, unused schema name; {@link Backend.close} drops it if the test did not. */
  schemaName(): string;
  /** Drops a schema made by a test, with everything in it. */
  dropSchema(schema: string): Promise<void>;
  /** Ends every pool and the PGlite instance. */
  close(): Promise<void>;
}

async function reachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (error) {
    const code = (error as { code?: string }).code;
    return `PAYLINK_PG_URL is set but the server does not answer (${code ?? (error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The Pool-compatible wrapper: pg's own Pool and Client over PGlite's node-postgres adapter, so the
 * store runs the same driver code (parameters, type parsing, release) as in production.
 * - PGlite's adapter would hand every client of a pool one shared connection object, and pg destroys a
 *   client after any failed `pool.query`, which would break the next client too: each client gets a
 *   connection of its own.
 * - PGlite has one session, hence one client at a time; when a client is destroyed mid-transaction the
 *   next one rolls that transaction back first, as a server does when a connection drops.
 * - That session outlives the client, and so would the named prepared statements the store sends: the
 *   next client, which knows of none, would prepare them again and fail ("already exists"). It drops
 *   them first, since a new server connection starts with none.
 */
function pglitePool(db: PGlite, options: pg.PoolConfig): pg.Pool {
  class PGliteClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, ...createPgConfig(db) } as pg.ClientConfig);
    }
  }
  return new pg.Pool({
    ...options,
    max: 1,
    Client: PGliteClient as unknown as new () => pg.ClientBase,
    onConnect: async (client) => {
      await client.query("ROLLBACK"); // a WARNING, not an error, when nothing is open
      await client.query("DEALLOCATE ALL");
    },
  });
}

/**
 * Starts PGlite from a cached, freshly initialised data directory (about 0.5 s) rather than running
 * initdb (about 4 s, per test file and worker). The cache is keyed by PGlite's version and written
 * atomically; any problem with it falls back to a fresh start.
 */
async function startPGlite(): Promise<PGlite> {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const { version } = JSON.parse(readFileSync(join(dirname(entry), "../package.json"), "utf8"));
  const cache = join(tmpdir(), `paylink-pglite-${version}-datadir.tar`);
  try {
    return await PGlite.create({ loadDataDir: new Blob([await readFile(cache)]) });
  } catch {
    // No cache yet (or an unreadable one): initialise below.
  }
  const db = await PGlite.create();
  try {
    const tmp = `${cache}.${process.pid}.tmp`;
    await writeFile(tmp, Buffer.from(await (await db.dumpDataDir("none")).arrayBuffer()));
    await rename(tmp, cache);
  } catch {
    // Caching is only a speed-up.
  }
  return db;
}

let schemaCounter = 0;

/**
 * Detects the backend for one test file. PGlite (a few seconds to start) starts here, outside any test's
 * timeout, unless `lazy` (files whose tests all need the server).
 */
export async function openBackend(options: { lazy?: boolean } = {}): Promise<Backend> {
  const missing = PG_URL === undefined ? "PAYLINK_PG_URL is not set" : await reachable(PG_URL);
  const pools: pg.Pool[] = [];
  let pglite: Promise<PGlite> | undefined;
  let admin: pg.Pool | undefined;
  const made = new Set<string>();

  const track = (pool: pg.Pool) => {
    // An idle client whose connection drops emits "error" on the pool; without a listener it would crash.
    pool.on("error", () => {});
    pools.push(pool);
    return pool;
  };

  const backend: Backend = {
    kind: missing === null ? "server" : "pglite",
    serverMissing: missing,
    async pool(max = 4, options = {}) {
      if (missing === null) return track(new pg.Pool({ connectionString: PG_URL, max, ...options }));
      pglite ??= startPGlite();
      return track(pglitePool(await pglite, options));
    },
    async end(...ended) {
      for (const pool of ended) {
        const index = pools.indexOf(pool);
        if (index >= 0) pools.splice(index, 1);
      }
      await Promise.all(ended.map((pool) => pool.end().catch(() => {})));
    },
    schemaName() {
      const schema = `paylink_test_${process.pid}_${++schemaCounter}_${Math.random().toString(36).slice(2, 8)}`;
      made.add(schema);
      return schema;
    },
    async dropSchema(schema) {
      admin ??= await backend.pool(1);
      await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      made.delete(schema);
    },
    async close() {
      // Schemas of tests that failed before their own cleanup; PGlite's vanish with the instance.
      if (missing === null) for (const schema of [...made]) await backend.dropSchema(schema);
      await Promise.all(pools.splice(0).map((pool) => pool.end().catch(() => {})));
      if (pglite !== undefined) await (await pglite).close();
    },
  };
  if (missing !== null && options.lazy !== true) {
    pglite = startPGlite();
    await pglite;
  }
  return backend;
}

/** A test name suffix that says why a multi-connection test is skipped on this backend. */
export function serverOnly(backend: Backend): string {
  return backend.kind === "server"
    ? " (PostgreSQL server)"
    : ` — SKIPPED: needs a PostgreSQL server with real concurrent connections; PGlite has one (${backend.serverMissing})`;
}

/** A migrated store on a fresh schema of `pool`. */
export async function freshStore(
  backend: Backend,
  pool: pg.Pool,
): Promise<{ store: PostgresStore; schema: string }> {
  const schema = backend.schemaName();
  const store = createPostgresStore({ pool, schema });
  await store.migrate();
  return { store, schema };
}

/**
 * The conformance suite's independent probe: raw SQL through its own pool, never through the adapter.
 * It also checks that the indexed columns agree with the stored document.
 */
export function rawProbe(pool: pg.Pool, schema: string): StoreProbe {
  const s = pg.escapeIdentifier(schema);
  return {
    async raw(scope: Scope, id: string): Promise<StoredPayment | undefined> {
      const { rows } = await pool.query(
        `SELECT payment, version, status, expires_at, created_at FROM ${s}.paylink_payments
         WHERE id = $1 AND account_id = $2 AND livemode = $3`,
        [id, scope.accountId, scope.livemode],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      const expires = row.payment.expiresAt === null ? null : Date.parse(row.payment.expiresAt);
      if (
        row.status !== row.payment.status ||
        (row.expires_at === null ? null : row.expires_at.getTime()) !== expires ||
        row.created_at.getTime() !== Date.parse(row.payment.createdAt)
      ) {
        throw new Error(`columns of ${id} disagree with its payment document`);
      }
      return { payment: row.payment, version: row.version };
    },
    async events(scope: Scope, id: string): Promise<DomainEvent[]> {
      const { rows } = await pool.query(
        `SELECT event FROM ${s}.paylink_outbox
         WHERE payment_id = $1 AND account_id = $2 AND livemode = $3 ORDER BY sequence`,
        [id, scope.accountId, scope.livemode],
      );
      return rows.map((row) => row.event as DomainEvent);
    },
  };
}

/** Every outbox row of `schema`, in sequence order, read with raw SQL. */
export async function allEvents(
  pool: pg.Pool,
  schema: string,
): Promise<{ sequence: number; event: DomainEvent }[]> {
  const { rows } = await pool.query(
    `SELECT sequence, event FROM ${pg.escapeIdentifier(schema)}.paylink_outbox ORDER BY sequence`,
  );
  return rows.map((row) => ({ sequence: Number(row.sequence), event: row.event as DomainEvent }));
}
