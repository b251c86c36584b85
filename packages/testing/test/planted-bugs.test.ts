/**
 * The conformance suite, tested: each store below is the memory store with one bug planted, of the kind
 * a review found slipping through, and the suite must turn red for each — in the tests named, with a
 * message that names the law that broke.
 */
import {
  KEY_LOST,
  type Payment,
  type PaymentRef,
  type PaymentStore,
  type Scope,
  type StoredPayment,
} from "@paylink/core";
import { createMemoryStore, type MemoryStore } from "@paylink/store-memory";
import { describe, expect, test, vi } from "vitest";
import { storeConformance, type TestFunction } from "../src/index.js";
import { type Outcome, recordSuite } from "./record-suite.js";

/** Runs the whole suite against stores from `makeStore`, recording each outcome. */
function runSuite(makeStore: () => PaymentStore): Promise<Map<string, Outcome>> {
  return recordSuite((test) =>
    storeConformance(test, makeStore, { name: "planted", numRuns: 5, concurrency: 8 }),
  );
}

const flip = (scope: Scope): Scope => ({ accountId: scope.accountId, livemode: !scope.livemode });
const newestFirst = (a: Payment, b: Payment) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;

/** The memory store with some methods replaced; the rest still work on the same data. */
function broken(plant: (inner: MemoryStore) => Partial<MemoryStore>): () => PaymentStore {
  return () => {
    const inner = createMemoryStore();
    return { ...inner, ...plant(inner) };
  };
}

interface PlantedBug {
  readonly bug: string;
  readonly makeStore: () => PaymentStore;
  /** Tests (by name, without the prefix) that must fail. */
  readonly fails: readonly string[];
}

const IDEMPOTENCY = "idempotency keys:";

const PLANTED: readonly PlantedBug[] = [
  {
    bug: "findDue ignores now and status (returns paid, processing and not-yet-due links)",
    makeStore: () => {
      const refs: PaymentRef[] = [];
      const inner = createMemoryStore();
      return {
        ...inner,
        async insert(scope, record, events, idempotency) {
          const written = await inner.insert(scope, record, events, idempotency);
          if (written === true) refs.push({ scope, id: record.payment.id });
          return written;
        },
        async findDue(_now, limit) {
          const all = await Promise.all(
            refs.map(async (ref) => ({ ref, payment: (await inner.get(ref.scope, ref.id))!.payment })),
          );
          return all
            .filter(({ payment }) => payment.expiresAt !== null)
            .sort((a, b) => Date.parse(a.payment.expiresAt!) - Date.parse(b.payment.expiresAt!))
            .slice(0, limit)
            .map(({ ref }) => ref);
        },
      };
    },
    fails: [
      "findDue: exactly the expirable payments past expiresAt, of every scope, oldest first, at most limit",
    ],
  },
  {
    bug: "list is scoped by account but not by mode (test-mode payments listed in live)",
    makeStore: broken((inner) => ({
      async list(scope, { limit, startingAfter }) {
        const everything = { limit: Number.MAX_SAFE_INTEGER };
        const both = [
          ...(await inner.list(scope, everything)),
          ...(await inner.list(flip(scope), everything)),
        ];
        both.sort(newestFirst);
        const start = startingAfter === undefined ? 0 : both.findIndex((p) => p.id === startingAfter) + 1;
        return start === 0 && startingAfter !== undefined ? [] : both.slice(start, start + limit);
      },
    })),
    fails: [
      "list: newest first, paged by cursor, confined to the account and the mode",
      "scoping: account ids with separators, wildcards or another account's id as prefix stay apart",
    ],
  },
  {
    bug: "compareAndSwap ignores the expected version",
    makeStore: broken((inner) => ({
      async compareAndSwap(scope, next, _expectedVersion, events, idempotency) {
        const current = await inner.get(scope, next.payment.id);
        if (current === undefined) return false;
        return inner.compareAndSwap(scope, next, current.version, events, idempotency);
      },
    })),
    fails: ["compareAndSwap: a stale version writes nothing, neither state nor event"],
  },
  {
    bug: "the scope ignores livemode (test and live share payments and keys)",
    makeStore: broken((inner) => {
      const test = (scope: Scope): Scope => ({ accountId: scope.accountId, livemode: false });
      return {
        get: (scope, id) => inner.get(test(scope), id),
        insert: (scope, record, events, idempotency) =>
          inner.insert(test(scope), record, events, idempotency),
        compareAndSwap: (scope, next, expected, events, idempotency) =>
          inner.compareAndSwap(test(scope), next, expected, events, idempotency),
        list: (scope, options) => inner.list(test(scope), options),
        claimIdempotencyKey: (scope, record, expiredBefore) =>
          inner.claimIdempotencyKey(test(scope), record, expiredBefore),
      };
    }),
    fails: [
      "scoping: another account or another mode does not see the payment",
      "scoping: concurrent reads each honour their own scope and get an object of their own",
      "scoping: compareAndSwap from another account or mode writes nothing",
      "list: newest first, paged by cursor, confined to the account and the mode",
      "idempotency keys: claim once, replay the stored response, forget after retention, confined to scope",
    ],
  },
  {
    bug: "get hands out the object it keeps (callers share one object)",
    makeStore: broken((inner) => {
      const handedOut = new Map<string, StoredPayment>();
      return {
        async get(scope, id) {
          const record = await inner.get(scope, id);
          if (record === undefined) return undefined;
          const kept = handedOut.get(id);
          if (kept !== undefined && kept.version === record.version) return kept;
          handedOut.set(id, record);
          return record;
        },
      };
    }),
    fails: [
      "copies: mutating what get returned or what was inserted does not change the store",
      "scoping: concurrent reads each honour their own scope and get an object of their own",
    ],
  },
  {
    bug: "insert writes its events even when the id exists",
    makeStore: broken((inner) => ({
      async insert(scope, record, events, idempotency) {
        const written = await inner.insert(scope, record, events, idempotency);
        if (written !== false) return written;
        // The events go in anyway, as a store that appends to the outbox before checking the id would.
        const ghost = { ...record.payment, id: `${record.payment.id}_ghost_${Math.random()}` };
        await inner.insert(scope, { payment: ghost, version: 1 }, events);
        return false;
      },
    })),
    fails: ["insert: an existing id returns false and writes nothing, in this scope or any other"],
  },
  {
    bug: "readEvents skips an event (the first after each cursor)",
    makeStore: broken((inner) => ({
      readEvents: (after, limit) => inner.readEvents(after + 1, limit),
    })),
    fails: ["outbox: events are read back in commit order, each once, with increasing sequences"],
  },
  {
    bug: "a write whose idempotency claim was lost is written anyway (KEY_LOST ignored)",
    makeStore: broken((inner) => ({
      async insert(scope, record, events, idempotency) {
        const written = await inner.insert(scope, record, events, idempotency);
        return written === KEY_LOST ? inner.insert(scope, record, events) : written;
      },
      async compareAndSwap(scope, next, expected, events, idempotency) {
        const written = await inner.compareAndSwap(scope, next, expected, events, idempotency);
        return written === KEY_LOST ? inner.compareAndSwap(scope, next, expected, events) : written;
      },
    })),
    fails: [
      "idempotency keys: a write stores the key's response atomically, and writes nothing once the claim is lost",
      "idempotency keys: a command stores its response with its write; a retry after a crash finds it",
    ],
  },
  {
    bug: "a lapsed lease is never taken over (every claim is treated as another request)",
    makeStore: broken((inner) => ({
      // Each claim is stored under a fingerprint of its own, so no retry ever matches the holder's.
      async claimIdempotencyKey(scope, record, expiredBefore) {
        const own = { ...record, fingerprint: `${record.fingerprint}\u0001${record.token}` };
        const existing = await inner.claimIdempotencyKey(scope, own, expiredBefore);
        return existing && { ...existing, fingerprint: existing.fingerprint.split("\u0001")[0]! };
      },
    })),
    fails: [
      "idempotency keys: an unanswered claim whose lease ended is taken over by the same request only",
      "idempotency keys: 8 concurrent takeovers of one expired claim — exactly one wins",
    ],
  },
  {
    bug: "IdempotencyStore half implemented (no releaseIdempotencyKey)",
    makeStore: () => {
      const { releaseIdempotencyKey, ...rest } = createMemoryStore();
      return rest;
    },
    fails: [
      "idempotency keys: claim once, replay the stored response, forget after retention, confined to scope",
      "idempotency keys: 8 concurrent claims of one key — exactly one wins",
    ],
  },
];

describe("the conformance suite catches planted bugs", () => {
  test("control: the memory store as shipped passes every test, and none is skipped", async () => {
    const outcomes = await runSuite(() => createMemoryStore());
    expect(outcomes.size, "the suite registered its tests").toBeGreaterThanOrEqual(28);
    const notPassed = [...outcomes].filter(([, outcome]) => outcome.state !== "passed");
    expect(notPassed).toEqual([]);
  });

  for (const planted of PLANTED) {
    test(planted.bug, async () => {
      const outcomes = await runSuite(planted.makeStore);
      for (const name of planted.fails) {
        const outcome = outcomes.get(name);
        expect(outcome, `a test named "${name}" exists`).toBeDefined();
        expect(outcome?.state, `"${name}" turns red`).toBe("failed");
      }
      for (const [name, outcome] of outcomes) {
        // Every failure names the law it checks: no bare `true !== false`, no TypeError from a short page.
        if (outcome.state === "failed") expect(outcome.message, name).toContain("law: ");
      }
    });
  }

  test("a store without idempotency methods reports those tests skipped, with the reason, and passes the rest", async () => {
    const outcomes = await runSuite(withoutIdempotency);
    const idempotency = [...outcomes].filter(([name]) => name.startsWith(IDEMPOTENCY));
    expect(idempotency.length, "the suite has idempotency tests").toBeGreaterThanOrEqual(6);
    for (const [name, outcome] of idempotency) {
      expect(outcome.state, `"${name}" is reported skipped, not passed`).toBe("skipped");
      if (outcome.state === "skipped") expect(outcome.note).toMatch(/skipped: .*IdempotencyStore/);
    }
    const others = [...outcomes].filter(([name]) => !name.startsWith(IDEMPOTENCY));
    expect(others.filter(([, outcome]) => outcome.state !== "passed")).toEqual([]);
  });

  test("a runner that cannot skip a running test (jest) hears of each skip through onSkip, or a warning", async () => {
    const registered: { name: string; fn: Parameters<TestFunction>[1] }[] = [];
    const heard: [string, string][] = [];
    const record: TestFunction = (name, fn) => registered.push({ name, fn });
    storeConformance(record, withoutIdempotency, { onSkip: (name, reason) => heard.push([name, reason]) });
    storeConformance(record, withoutIdempotency, { name: "unheard" });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      // jest calls a body without arguments.
      for (const { name, fn } of registered) if (name.includes(IDEMPOTENCY)) await fn();
      const skippedNames = registered
        .filter(({ name }) => name.includes(IDEMPOTENCY))
        .map(({ name }) => name);
      expect(heard.map(([name]) => name)).toEqual(skippedNames.filter((name) => !name.startsWith("unheard")));
      expect(warn.mock.calls.map(([line]) => String(line).split(" (skipped: ")[0])).toEqual(
        skippedNames.filter((name) => name.startsWith("unheard")),
      );
      for (const [, reason] of heard) expect(reason).toContain("IdempotencyStore");
    } finally {
      warn.mockRestore();
    }
  });
});

/** The memory store without the three methods of `IdempotencyStore`. */
function withoutIdempotency(): PaymentStore {
  const { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey, ...rest } = createMemoryStore();
  return rest;
}
