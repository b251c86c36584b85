import type { RelayStore, SinkPosition } from "@paylink/core/store";

/**
 * The memory store's {@link RelayStore}: a cursor and a lease per sink, in a `Map`. Each method is one
 * synchronous step, so no other call interleaves: a claim, an advance and a release are atomic.
 * `lastSequence` reads the newest sequence off the outbox (its length), never a page of it. Positions
 * are lost with the process, so after a restart every sink is handed the whole outbox again (at least
 * once still holds).
 */
export function memoryRelayStore(lastSequence: () => number): RelayStore {
  const sinks = new Map<string, { position: number; owner: string | null; leaseUntil: string | null }>();
  return {
    async claimSink(sink, owner, now, leaseUntil) {
      const row = sinks.get(sink) ?? { position: 0, owner: null, leaseUntil: null };
      // ISO-8601 times of one format compare as strings, as the SQL stores compare them.
      const free =
        row.owner === null || row.owner === owner || row.leaseUntil === null || row.leaseUntil <= now;
      if (!free) return undefined;
      sinks.set(sink, { position: row.position, owner, leaseUntil });
      return row.position;
    },
    async advanceSink(sink, owner, position, leaseUntil) {
      const row = sinks.get(sink);
      if (row === undefined || row.owner !== owner) return false;
      sinks.set(sink, { position: Math.max(row.position, position), owner, leaseUntil });
      return true;
    },
    async releaseSink(sink, owner) {
      const row = sinks.get(sink);
      if (row?.owner === owner) sinks.set(sink, { position: row.position, owner: null, leaseUntil: null });
    },
    async sinkPositions(): Promise<SinkPosition[]> {
      return [...sinks]
        .map(([sink, row]) => ({ sink, ...row }))
        .sort((a, b) => (a.sink < b.sink ? -1 : a.sink > b.sink ? 1 : 0));
    },
    async lastSequence() {
      return lastSequence();
    },
  };
}
