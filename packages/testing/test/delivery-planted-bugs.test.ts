/**
 * The delivery conformance suite, tested: each store below is the memory store with one bug planted in
 * its delivery ports, and the suite must turn red for each — in the tests named, with a message that
 * names the law that broke.
 */
import type { Scope, StoredEvent } from "@paylink/core";
import type { WebhookEndpoint } from "@paylink/core/store";
import { createMemoryStore, type MemoryStore } from "@paylink/store-memory";
import { describe, expect, test } from "vitest";
import { deliveryStoreConformance } from "../src/index.js";
import { type Outcome, recordSuite } from "./record-suite.js";

/** Runs the whole delivery suite against stores from `makeStore`, recording each outcome. */
function runSuite(makeStore: () => MemoryStore): Promise<Map<string, Outcome>> {
  return recordSuite((test) =>
    deliveryStoreConformance(test, makeStore, { name: "planted", concurrency: 8 }),
  );
}

const flip = (scope: Scope): Scope => ({ accountId: scope.accountId, livemode: !scope.livemode });

/** The memory store with some methods replaced; the rest still work on the same data. */
function broken(plant: (inner: MemoryStore) => Partial<MemoryStore>): () => MemoryStore {
  return () => {
    const inner = createMemoryStore();
    return { ...inner, ...plant(inner) };
  };
}

interface PlantedBug {
  readonly bug: string;
  readonly makeStore: () => MemoryStore;
  /** Tests (by name, without the prefix) that must fail. */
  readonly fails: readonly string[];
}

const RACE_SINK =
  "races: 8 concurrent claims of a free sink, then of a lapsed one, by different owners — exactly one wins each";
const RACE_LEASE =
  "races: 8 concurrent leaseDueDeliveries by different owners — no delivery leased twice, one per endpoint";
const LEASES =
  "webhook leases: the oldest pending delivery of each enabled endpoint, only when due, of every scope";

const PLANTED: readonly PlantedBug[] = [
  {
    bug: "claimSink ignores a live lease (another owner takes the sink at once)",
    makeStore: broken((inner) => ({
      // As if every lease had ended: the claim compares leaseUntil with the end of time.
      claimSink: (sink, owner, _now, leaseUntil) =>
        inner.claimSink(sink, owner, "9999-12-31T23:59:59.999Z", leaseUntil),
    })),
    fails: [
      "sinks: a new sink starts at 0; its owner reclaims it; another is refused while the lease lives and takes it over once it ended",
      RACE_SINK,
    ],
  },
  {
    bug: "leaseDueDeliveries ignores the endpoint's status (disabled endpoints are posted to)",
    makeStore: broken((inner) => {
      // The store below sees every endpoint as enabled; reads answer the status the caller set.
      const statuses = new Map<string, Pick<WebhookEndpoint, "status" | "disabledReason" | "failingSince">>();
      const real = (endpoint: WebhookEndpoint): WebhookEndpoint => ({
        ...endpoint,
        ...statuses.get(endpoint.id),
      });
      return {
        async insertEndpoint(endpoint) {
          const { status, disabledReason, failingSince } = endpoint;
          statuses.set(endpoint.id, { status, disabledReason, failingSince });
          await inner.insertEndpoint({ ...endpoint, status: "enabled" });
        },
        async updateEndpoint(scope, id, patch) {
          const updated = await inner.updateEndpoint(scope, id, { ...patch, status: "enabled" });
          if (updated) statuses.set(id, { ...patch });
          return updated;
        },
        async getEndpoint(scope, id) {
          const endpoint = await inner.getEndpoint(scope, id);
          return endpoint && real(endpoint);
        },
        async listEndpoints(scope) {
          return (await inner.listEndpoints(scope)).map(real);
        },
      };
    }),
    fails: [LEASES],
  },
  {
    bug: "leaseDueDeliveries leases without holding (the same delivery is leased twice)",
    makeStore: broken((inner) => ({
      // A lease that ends the moment it is taken: every caller gets the delivery again.
      leaseDueDeliveries: (owner, now, _leaseUntil, limit) =>
        inner.leaseDueDeliveries(owner, now, now, limit),
    })),
    fails: [LEASES, RACE_LEASE],
  },
  {
    bug: "listEvents ignores livemode (test events listed in live)",
    makeStore: broken((inner) => ({
      async listEvents(scope, { limit, startingAfter, paymentId }) {
        const all = (await inner.readEvents(0, Number.MAX_SAFE_INTEGER)).filter(
          ({ event }: StoredEvent) =>
            event.accountId === scope.accountId && (paymentId === undefined || event.paymentId === paymentId),
        );
        const start =
          startingAfter === undefined ? 0 : all.findIndex((s) => s.event.id === startingAfter) + 1;
        return start === 0 && startingAfter !== undefined ? [] : all.slice(start, start + limit);
      },
    })),
    fails: [
      "event feed: exactly the scope's events, oldest first, paged by event id",
      "event feed: an unknown cursor, or another scope's event as cursor, gives an empty page",
    ],
  },
  {
    bug: "listDeliveries ignores livemode (an endpoint's deliveries listed in the other mode)",
    makeStore: broken((inner) => ({
      async listDeliveries(scope, endpointId, options) {
        const [mine, other] = [
          await inner.listDeliveries(scope, endpointId, options),
          await inner.listDeliveries(flip(scope), endpointId, options),
        ];
        return mine.length > 0 ? mine : other;
      },
    })),
    fails: ["webhook deliveries: another account or mode cannot list, get or revive them"],
  },
  {
    bug: "getEndpoint hands out the object it keeps (callers share one object)",
    makeStore: broken((inner) => {
      const handedOut = new Map<string, WebhookEndpoint>();
      return {
        async getEndpoint(scope, id) {
          const endpoint = handedOut.get(id) ?? (await inner.getEndpoint(scope, id));
          if (endpoint !== undefined) handedOut.set(id, endpoint);
          return endpoint;
        },
      };
    }),
    fails: ["webhook endpoints: round trip, oldest first (by createdAt, then id), and copies"],
  },
];

describe("the delivery conformance suite catches planted bugs", () => {
  test("control: the memory store as shipped passes every test", async () => {
    const outcomes = await runSuite(() => createMemoryStore());
    expect(outcomes.size, "the suite registered its tests").toBeGreaterThanOrEqual(20);
    expect([...outcomes].filter(([, outcome]) => outcome.state !== "passed")).toEqual([]);
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
});
