import { StoreError, type StoreErrorMessages } from "@paylink/core/store";

/**
 * What can go wrong talking to PostgreSQL, as a small closed set: the store's rejections carry one of
 * these codes and its fixed message, never the driver's text, which can hold host names, SQL or user
 * data. The driver's error stays reachable as `cause`, for logs.
 */
export type PostgresStoreErrorCode =
  /** The database could not be reached or the connection broke (refused, reset, timeout, shutdown, auth). */
  | "connection"
  /** The store's tables are missing: `migrate()` has not run on this schema. */
  | "schema"
  /** Text holding U+0000, which PostgreSQL text and jsonb cannot store. */
  | "unsupported_text"
  /** Any other failure of a statement. */
  | "query";

const MESSAGES: StoreErrorMessages<PostgresStoreErrorCode> = {
  connection: "connection failed",
  schema: "tables missing, run migrate()",
  unsupported_text: "text containing U+0000 cannot be stored",
  query: "query failed",
};

/**
 * The error every method of the PostgreSQL store rejects with: `message` is "PostgreSQL store: " and the
 * fixed message of its `code`, and `cause` is the driver's error. Core maps any rejection to
 * `store_unavailable`.
 */
export class PostgresStoreError extends StoreError<PostgresStoreErrorCode> {
  override readonly name = "PostgresStoreError";

  /** `cause`: the driver's error, if any. */
  constructor(code: PostgresStoreErrorCode, cause?: unknown) {
    super("PostgreSQL store", MESSAGES, code, { cause });
  }
}

// Node's socket errors and pg's own connection messages, for errors that carry no SQLSTATE.
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "EADDRNOTAVAIL",
]);
const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error/i,
  /cannot use a pool after calling end/i,
  /client was closed/i,
  /not queryable/i,
];

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Classifies a driver error. SQLSTATE classes: 08 connection exception, 57P0x shutdown or terminated
 * backend, 53300 too many connections, 28 authorization, 3D000 unknown database; 42P01 / 3F000 a
 * missing table or schema; 22021 / 22P05 text PostgreSQL cannot hold (U+0000).
 */
export function classify(error: unknown): PostgresStoreErrorCode {
  const code = codeOf(error);
  if (code !== undefined) {
    if (SOCKET_CODES.has(code)) return "connection";
    if (code.startsWith("08") || code.startsWith("28") || code.startsWith("57P")) return "connection";
    if (code === "53300" || code === "3D000") return "connection";
    if (code === "42P01" || code === "3F000") return "schema";
    if (code === "22021" || code === "22P05") return "unsupported_text";
  }
  // Node 20 reports a refused dual-stack connect as an AggregateError of socket errors.
  if (error instanceof AggregateError && error.errors.some((e) => classify(e) === "connection"))
    return "connection";
  const message = error instanceof Error ? error.message : "";
  if (CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) return "connection";
  return "query";
}

/** Wraps a driver error (an already wrapped one is returned as is). */
export function wrap(error: unknown): PostgresStoreError {
  return error instanceof PostgresStoreError ? error : new PostgresStoreError(classify(error), error);
}

/** Runs `work`, turning any failure into a {@link PostgresStoreError}. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw wrap(error);
  }
}

/**
 * True when some text holds U+0000. PostgreSQL text and jsonb cannot hold it, so no stored id, account
 * or name contains it: a lookup of such a key is answered "not found" without asking the database (as
 * the reference store would), where the database would reject it.
 */
export const hasNul = (...texts: readonly string[]): boolean => texts.some((text) => text.includes("\u0000"));

/**
 * True for SQLSTATE 40001 (serialization_failure): what a statement gets instead of READ COMMITTED's
 * re-check when the session's default isolation is REPEATABLE READ or SERIALIZABLE and a concurrent
 * transaction wrote the same row. The failed statement wrote nothing.
 */
export function isSerializationFailure(error: unknown): boolean {
  return codeOf(error) === "40001";
}

/** True when the connection that raised `error` may be unusable and must not go back to the pool. */
export function isConnectionLost(error: unknown): boolean {
  return classify(error) === "connection";
}

/**
 * True for a named prepared statement PostgreSQL can no longer run on its connection: after DDL changed
 * the type of a column it returns (say, the schema dropped and created again differently), every later
 * execution there fails with SQLSTATE 0A000 "cached plan must not change result type". It wrote nothing.
 */
export function isStalePreparedStatement(error: unknown): boolean {
  return (
    codeOf(error) === "0A000" &&
    error instanceof Error &&
    /cached plan must not change result type/i.test(error.message)
  );
}
