/** The part of `pg` the store talks to, and the one way it runs a transaction on it. */
import { isConnectionLost, isStalePreparedStatement, wrap } from "./errors.js";
import type { PreparedStatement } from "./sql.js";

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

/** `statement` with its values, as `pg`'s query config of a named prepared statement. */
export const prepared = (statement: PreparedStatement, values: unknown[]): PostgresQueryConfig => ({
  name: statement.name,
  text: statement.text,
  values,
});

// An explicit level: a pool whose sessions default to SERIALIZABLE would turn a lost compare-and-swap
// into a serialization failure instead of an UPDATE of zero rows (see `write` in writes.ts).
const BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED";

/**
 * Runs `work` in one READ COMMITTED transaction on one client of `pool`: COMMIT when it returns true,
 * ROLLBACK when it returns false or throws. The client is always released; it is destroyed rather than
 * pooled when its connection may be broken. No user code runs while the transaction is open, and nothing
 * is awaited between statements but the client itself: a dropping connection surfaces as the rejection
 * of the statement in flight, and the client is released before any later socket event.
 * @throws {PostgresStoreError} for any failure.
 */
export async function transaction(
  pool: PostgresPool,
  work: (client: PostgresClient) => Promise<boolean>,
): Promise<boolean> {
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
