import type { Scope } from "@paylink/core";
import { type EventFeed, rowLimit, type StoredEvent } from "@paylink/core/store";

/**
 * The memory store's {@link EventFeed} over its outbox (kept in sequence order): the scope's events,
 * oldest first, each a copy made by `copy`. A cursor that is not an event of the scope gives an empty
 * page, so a caller never learns where another scope's event sits.
 */
export function memoryEventFeed(
  outbox: readonly StoredEvent[],
  copy: (stored: StoredEvent) => StoredEvent,
): EventFeed {
  const inScope = ({ event }: StoredEvent, scope: Scope) =>
    event.accountId === scope.accountId && event.livemode === scope.livemode;
  return {
    async listEvents(scope, { limit, startingAfter, paymentId }) {
      const mine = outbox.filter(
        (stored) =>
          inScope(stored, scope) && (paymentId === undefined || stored.event.paymentId === paymentId),
      );
      let start = 0;
      if (startingAfter !== undefined) {
        const cursor = outbox.find((stored) => stored.event.id === startingAfter);
        if (cursor === undefined || !inScope(cursor, scope)) return [];
        // The cursor need not match `paymentId`: the page starts after its sequence.
        start = mine.findIndex((stored) => stored.sequence > cursor.sequence);
        if (start < 0) return [];
      }
      return mine.slice(start, start + rowLimit(limit)).map(copy);
    },
  };
}
