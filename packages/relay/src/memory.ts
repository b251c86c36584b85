import type { PaymentStore } from "@paylink/core";
import type { RelayableStore, SinkPosition } from "./port.js";

/**
 * Adds sink cursors and leases, kept in memory, to a store: a {@link RelayableStore} for tests and for
 * one process over the memory store. Positions are lost with the process, so after a restart every
 * sink is handed the whole outbox again (at least once still holds).
 */
export function withMemoryCursors<S extends PaymentStore>(store: S): S & RelayableStore {
  const sinks = new Map<string, { position: number; owner: string | null; leaseUntil: string | null }>();
  const relay = {
    async claimSink(sink: string, owner: string, now: string, leaseUntil: string) {
      const row = sinks.get(sink) ?? { position: 0, owner: null, leaseUntil: null };
      const free =
        row.owner === null || row.owner === owner || row.leaseUntil === null || row.leaseUntil <= now;
      if (!free) return undefined;
      sinks.set(sink, { position: row.position, owner, leaseUntil });
      return row.position;
    },
    async advanceSink(sink: string, owner: string, position: number, leaseUntil: string) {
      const row = sinks.get(sink);
      if (row === undefined || row.owner !== owner) return false;
      sinks.set(sink, { position: Math.max(row.position, position), owner, leaseUntil });
      return true;
    },
    async releaseSink(sink: string, owner: string) {
      const row = sinks.get(sink);
      if (row?.owner === owner) sinks.set(sink, { position: row.position, owner: null, leaseUntil: null });
    },
    async sinkPositions(): Promise<SinkPosition[]> {
      return [...sinks].map(([sink, row]) => ({ sink, ...row }));
    },
    async lastSequence() {
      let last = 0;
      for (let page = await store.readEvents(0, 1000); page.length > 0; ) {
        last = page[page.length - 1]!.sequence;
        page = await store.readEvents(last, 1000);
      }
      return last;
    },
  };
  return Object.assign(Object.create(store) as S, relay) as S & RelayableStore;
}
