/**
 * The store's {@link RelayStore}: one row per sink in `relay_sinks`, its cursor and its lease. Every
 * write is one statement in a group commit's `BEGIN IMMEDIATE` transaction, so of two processes racing
 * for one sink exactly one wins.
 */
import type { RelayStore, SinkPosition } from "@paylink/core/store";
import type { Access } from "./access.js";

interface SinkRow {
  readonly sink: string;
  readonly position: number;
  readonly owner: string | null;
  readonly lease_until: string | null;
}

/** The {@link RelayStore} methods over `io`. */
export function sqliteRelayStore({ read, write }: Access): RelayStore {
  return {
    claimSink: (sink, owner, now, leaseUntil) =>
      write((c) => {
        const row = c.s.claimSink.get({ sink, owner, now, leaseUntil }) as { position: number } | undefined;
        return row?.position;
      }),
    advanceSink: (sink, owner, position, leaseUntil) =>
      write((c) => c.s.advanceSink.run({ sink, owner, position, leaseUntil }).changes === 1),
    releaseSink: (sink, owner) =>
      write((c) => {
        c.s.releaseSink.run(sink, owner);
      }),
    sinkPositions: () =>
      read((c) =>
        (c.s.sinkPositions.all() as SinkRow[]).map(
          (row): SinkPosition => ({
            sink: row.sink,
            position: row.position,
            owner: row.owner,
            leaseUntil: row.lease_until,
          }),
        ),
      ),
    lastSequence: () => read((c) => c.s.lastSequence.pluck().get() as number),
  };
}
