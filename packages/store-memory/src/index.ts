/**
 * `@paylink/store-memory` — the in-memory reference implementation of Paylink's storage port.
 * @packageDocumentation
 */
import {
  type DomainEvent,
  expirableStatuses,
  type PaymentRef,
  type PaymentStore,
  type Scope,
  type StoredEvent,
  type StoredPayment,
} from "@paylink/core";

interface Row {
  readonly scope: Scope;
  record: StoredPayment;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Called before every write, with its name; throwing from it simulates a failing database (tests of
   * `store_unavailable`). Nothing is written when it throws.
   */
  readonly beforeWrite?: (operation: "insert" | "compareAndSwap") => void;
}

/** The memory store: {@link PaymentStore} plus helpers for tests. */
export interface MemoryStore extends PaymentStore {
  /** Number of payments held (all scopes). */
  size(): number;
}

const DUE_STATUSES: ReadonlySet<string> = new Set(expirableStatuses("link"));

/**
 * An in-memory {@link PaymentStore}: the reference implementation of the port. It keeps deep copies and
 * never shares objects with callers, honours `expectedVersion`, and appends events atomically with the
 * state (a single synchronous step, so no other command can interleave).
 *
 * @example
 * const links = createPaymentLinks({ store: createMemoryStore() });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const rows = new Map<string, Row>();
  const outbox: StoredEvent[] = [];
  const copy = structuredClone;

  const visible = (row: Row | undefined, scope: Scope): row is Row =>
    row !== undefined && row.scope.accountId === scope.accountId && row.scope.livemode === scope.livemode;

  const append = (events: readonly DomainEvent[]) => {
    for (const event of events) outbox.push({ sequence: outbox.length + 1, event: copy(event) });
  };

  return {
    async get(scope, id) {
      const row = rows.get(id);
      return visible(row, scope) ? copy(row.record) : undefined;
    },
    async insert(scope, record, events) {
      options.beforeWrite?.("insert");
      if (rows.has(record.payment.id)) return false;
      rows.set(record.payment.id, {
        scope: { accountId: scope.accountId, livemode: scope.livemode },
        record: copy(record),
      });
      append(events);
      return true;
    },
    async compareAndSwap(scope, next, expectedVersion, events) {
      options.beforeWrite?.("compareAndSwap");
      const row = rows.get(next.payment.id);
      if (!visible(row, scope) || row.record.version !== expectedVersion) return false;
      row.record = copy(next);
      append(events);
      return true;
    },
    async findDue(now, limit) {
      const nowMs = Date.parse(now);
      const due: { ref: PaymentRef; at: number }[] = [];
      for (const row of rows.values()) {
        const { payment } = row.record;
        if (payment.expiresAt === null || !DUE_STATUSES.has(payment.status)) continue;
        const at = Date.parse(payment.expiresAt);
        if (at <= nowMs) due.push({ ref: { scope: { ...row.scope }, id: payment.id }, at });
      }
      return due
        .sort((a, b) => a.at - b.at)
        .slice(0, limit)
        .map((entry) => entry.ref);
    },
    async readEvents(after, limit) {
      return outbox.slice(Math.max(0, after), Math.max(0, after) + limit).map((stored) => copy(stored));
    },
    size: () => rows.size,
  };
}
