/**
 * The {@link RelayStore} on PostgreSQL: one row per sink in `paylink_sink_cursors`, its cursor and its
 * lease. Every method is one statement, so each is atomic across processes without a transaction.
 */
import type { RelayStore, SinkPosition } from "@paylink/core/store";
import { guarded, hasNul } from "./errors.js";
import { type PostgresPool, prepared } from "./pool.js";
import { isoOrNull, type TimeValue } from "./rows.js";
import { type PreparedStatement, preparedStatement } from "./sql.js";

/** The statements of the relay store on one schema (quoted); tests `EXPLAIN` them. */
export interface RelayStatements {
  /** Parameters: sink, owner, now, lease end. One row (the position) when `owner` holds the lease. */
  readonly claimSink: PreparedStatement;
  /** Parameters: sink, owner, position, lease end. One row affected when `owner` held the lease. */
  readonly advanceSink: PreparedStatement;
  /** Parameters: sink, owner. */
  readonly releaseSink: PreparedStatement;
  readonly sinkPositions: PreparedStatement;
  readonly lastSequence: PreparedStatement;
}

/** Builds the relay store's statements for the quoted schema `s`. */
export function relayStatements(s: string): RelayStatements {
  const sinks = `${s}.paylink_sink_cursors`;
  return {
    // One statement: the INSERT of a new sink, or, when the row exists, an UPDATE conditional on its
    // lease. ON CONFLICT locks the existing row and evaluates the WHERE on its latest committed version
    // (a concurrent claim of the same sink waits for the other to commit, then re-checks), so of two
    // relays claiming a free sink at once exactly one gets a row back. A claim that loses returns none.
    claimSink: preparedStatement(
      "claim_sink",
      `INSERT INTO ${sinks} AS c (sink, position, owner, lease_until)
      VALUES ($1, 0, $2, $4::timestamptz)
      ON CONFLICT (sink) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
        WHERE c.owner IS NULL OR c.owner = EXCLUDED.owner OR c.lease_until IS NULL
          OR c.lease_until <= $3::timestamptz
      RETURNING position`,
    ),
    // Conditional on the owner only: a lease that lapsed but that nobody took over is still the
    // owner's (as in the reference store). GREATEST: a position never moves backwards.
    advanceSink: preparedStatement(
      "advance_sink",
      `UPDATE ${sinks} SET position = GREATEST(position, $3::bigint), lease_until = $4::timestamptz
      WHERE sink = $1 AND owner = $2`,
    ),
    releaseSink: preparedStatement(
      "release_sink",
      `UPDATE ${sinks} SET owner = NULL, lease_until = NULL WHERE sink = $1 AND owner = $2`,
    ),
    sinkPositions: preparedStatement(
      "sink_positions",
      `SELECT sink, position, owner, lease_until FROM ${sinks} ORDER BY sink`,
    ),
    // The primary key's last entry: one index probe, whatever the size of the outbox.
    lastSequence: preparedStatement(
      "last_sequence",
      `SELECT COALESCE(max(sequence), 0) AS sequence FROM ${s}.paylink_outbox`,
    ),
  };
}

interface SinkRow {
  readonly sink: string;
  readonly position: string | number;
  readonly owner: string | null;
  readonly lease_until: TimeValue | null;
}

/**
 * The {@link RelayStore} of the schema `s` (quoted) on `pool`. Times are compared as instants
 * (`timestamptz`), never as text; bigint positions arrive as strings and stay far below 2^53.
 */
export function createRelayStore(pool: PostgresPool, s: string): RelayStore {
  const sql = relayStatements(s);
  return {
    claimSink: (sink, owner, now, leaseUntil) =>
      guarded(async () => {
        const { rows } = await pool.query(prepared(sql.claimSink, [sink, owner, now, leaseUntil]));
        const row = rows[0] as { position: string | number } | undefined;
        return row === undefined ? undefined : Number(row.position);
      }),

    advanceSink: (sink, owner, position, leaseUntil) =>
      guarded(async () => {
        if (hasNul(sink, owner)) return false;
        const result = await pool.query(prepared(sql.advanceSink, [sink, owner, position, leaseUntil]));
        return result.rowCount === 1;
      }),

    releaseSink: (sink, owner) =>
      guarded(async () => {
        if (hasNul(sink, owner)) return;
        await pool.query(prepared(sql.releaseSink, [sink, owner]));
      }),

    sinkPositions: () =>
      guarded(async (): Promise<SinkPosition[]> => {
        const { rows } = await pool.query(prepared(sql.sinkPositions, []));
        return (rows as SinkRow[]).map((row) => ({
          sink: row.sink,
          position: Number(row.position),
          owner: row.owner,
          leaseUntil: isoOrNull(row.lease_until),
        }));
      }),

    lastSequence: () =>
      guarded(async () => {
        const { rows } = await pool.query(prepared(sql.lastSequence, []));
        return Number((rows[0] as { sequence: string | number }).sequence);
      }),
  };
}
