/**
 * The store's {@link EventFeed}: a scope's events for `GET /events`, read from the outbox.
 *
 * Why there is no index on the outbox by scope: the page walks the outbox's primary key (`sequence`)
 * from the cursor and keeps the scope's rows, stopping after `limit` of them. That costs the events
 * written, in every scope, between the cursor and the end of the page: next to nothing for a file with
 * one busy account (the usual embedded deployment), and a scan of the file's backlog for a quiet scope
 * among busy ones. An index on `(account_id, livemode, sequence)` would make every page a seek, but it
 * is one more B-tree page written by every commit of the cancel path, which is benchmarked and already
 * near its target (docs/benchmarks.md; migration 2 dropped an outbox index for the same reason). The
 * cancel path wins: `GET /events` is a read a merchant makes now and then, a cancel is the hot write.
 * Measured on 200 000 events of ~1.6 kB: a busy scope's page 0.25 ms; a scope holding 1 in 2 000 of
 * them 206 ms (0.26 ms with the index); one payment's events 160 ms either way (that would take an index
 * on `(payment_id, sequence)`, the very one migration 2 dropped). If many scopes share one busy file, or
 * a page reads one payment's events often, add the index in a migration.
 */
import type { DomainEvent } from "@paylink/core";
import { type EventFeed, rowLimit, type StoredEvent } from "@paylink/core/store";
import type { Access } from "./access.js";
import { scopeRow } from "./rows.js";

/** The {@link EventFeed} methods over `io`. */
export function sqliteEventFeed({ read }: Access): EventFeed {
  return {
    listEvents: (scope, { limit, startingAfter, paymentId }) => {
      const { accountId, livemode } = scopeRow(scope);
      const max = rowLimit(limit);
      return read((c) => {
        // A read transaction: the cursor and the page come from one snapshot.
        const page = c.db.transaction(() => {
          let after = 0;
          if (startingAfter !== undefined) {
            // The cursor must be an event of the scope (else the page is empty, and a caller never learns
            // where another scope's event sits); it need not be one of `paymentId`.
            const cursor = c.s.eventCursor.get(startingAfter, accountId, livemode) as
              | { sequence: number }
              | undefined;
            if (cursor === undefined) return [];
            after = cursor.sequence;
          }
          return (
            paymentId === undefined
              ? c.s.events.all(after, accountId, livemode, max)
              : c.s.paymentEvents.all(after, accountId, livemode, paymentId, max)
          ) as { sequence: number; event: string }[];
        });
        return page
          .deferred()
          .map(
            (row): StoredEvent => ({ sequence: row.sequence, event: JSON.parse(row.event) as DomainEvent }),
          );
      });
    },
  };
}
