import { createPaymentLinks, type PaymentStore, type Scope } from "@paylink/core";
import { createTestGateway } from "@paylink/gateway-test";
import { createExpirySweep, createGatewaySinks, createRelay, type RelayableStore } from "@paylink/relay";
import { createMemoryStore } from "@paylink/store-memory";
import { fakeClock, sampleLinkInput } from "@paylink/testing";
import { describe, expect, it, vi } from "vitest";
import { until } from "../../../test/fixtures/waiting.js";

const scope: Scope = { accountId: "acct_expiry", livemode: false };
const START = new Date("2030-01-01T00:00:00.000Z");
const HOUR = 3_600_000;

/** `store` with its `findDue` replaced by `findDue` (which may call the real one). */
function withFindDue<S extends PaymentStore>(store: S, findDue: PaymentStore["findDue"]): S {
  return new Proxy(store, {
    get: (target, property, receiver) =>
      property === "findDue" ? findDue : Reflect.get(target, property, receiver),
  });
}

/** A store, the test provider, and `count` links of it expiring an hour after START. */
async function world(count: number, store: RelayableStore = createMemoryStore()) {
  const clock = fakeClock(START);
  const gateway = createTestGateway();
  const links = createPaymentLinks({ store, gateway, clock });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const input = sampleLinkInput(START, {
      provider: gateway.provider,
      expiresAt: new Date(START.getTime() + HOUR),
    });
    ids.push((await links.create(scope, input))._unsafeUnwrap().id);
  }
  // Straight from the store: a read through `links` would expire a due link itself.
  const stored = async (id: string) => (await store.get(scope, id))!.payment;
  return { store, clock, gateway, links, ids, stored };
}

describe("createExpirySweep", () => {
  it("expires every due link in batches, marking each stop pending; links not yet due are left alone", async () => {
    const w = await world(7);
    const later = sampleLinkInput(START, {
      provider: "test",
      expiresAt: new Date(START.getTime() + 5 * HOUR),
    });
    const notDue = (await w.links.create(scope, later))._unsafeUnwrap().id;
    w.clock.advance(2 * HOUR);
    const heard: number[] = [];
    const sweep = createExpirySweep({ links: w.links, batchSize: 3, onExpired: (n) => heard.push(n) });
    expect((await sweep.runOnce())._unsafeUnwrap()).toBe(7);
    expect(heard).toEqual([7]);
    for (const id of w.ids) {
      const payment = await w.stored(id);
      expect(payment.status).toBe("expired");
      expect(payment.providerState?.stop).toBe("pending");
    }
    expect((await w.stored(notDue)).status).toBe("pending");
    // Nothing more is due: a second sweep expires nothing and says nothing.
    expect((await sweep.runOnce())._unsafeUnwrap()).toBe(0);
    expect(heard).toEqual([7]);
  });

  it("started, it expires a link nobody reads, and the gateway's stop sink stops it at the provider", async () => {
    const w = await world(1);
    const reference = (await w.stored(w.ids[0]!)).providerState!.reference!;
    const relay = createRelay({
      store: w.store,
      sinks: createGatewaySinks({ links: w.links, gateway: w.gateway }),
    });
    const sweep = createExpirySweep({ links: w.links, everyMs: 20 });
    sweep.start();
    try {
      w.clock.advance(2 * HOUR);
      await until("the sweep to expire the link", async () =>
        (await w.stored(w.ids[0]!)).status === "expired" ? true : undefined,
      );
      await relay.runOnce();
      expect(w.gateway.link(reference)?.status).toBe("stopped");
      expect((await w.stored(w.ids[0]!)).providerState?.stop).toBe("confirmed");
    } finally {
      await sweep.stop();
    }
  });

  it("a failed sweep is reported and the next one tries again", async () => {
    const store = createMemoryStore();
    let down = true;
    const flaky = withFindDue(store, async (...args) => {
      if (down) throw new Error("connection reset");
      return store.findDue(...args);
    });
    const w = await world(2, flaky);
    w.clock.advance(2 * HOUR);
    const failures: string[] = [];
    const sweep = createExpirySweep({ links: w.links, onError: (error) => failures.push(error.code) });
    expect((await sweep.runOnce())._unsafeUnwrapErr().code).toBe("store_unavailable");
    expect(failures).toEqual(["store_unavailable"]);
    down = false;
    expect((await sweep.runOnce())._unsafeUnwrap()).toBe(2);
  });

  it("stop() waits for a sweep in flight; runOnce never runs beside a scheduled sweep, nor starves behind a busy one", async () => {
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const store = createMemoryStore();
    const slow = withFindDue(store, async (...args) => {
      calls++;
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight--;
      return store.findDue(...args);
    });
    const links = createPaymentLinks({ store: slow });
    const sweep = createExpirySweep({ links, everyMs: 5 });
    sweep.start();
    await Promise.all([sweep.runOnce(), sweep.runOnce()]);
    await sweep.stop();
    expect(inFlight).toBe(0);
    expect(most).toBe(1);
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toBe(after);
  });

  it("stop() ends a scheduled sweep after its current batch, and waits for a runOnce queued behind it", async () => {
    const store = createMemoryStore();
    let sweep: ReturnType<typeof createExpirySweep> | undefined;
    let stopped: Promise<void> | undefined;
    let calls = 0;
    let inFlight = 0;
    const slow = withFindDue(store, async (...args) => {
      calls++;
      inFlight++;
      // stop() arrives while the first batch of the scheduled sweep is being read.
      if (calls === 1)
        setTimeout(() => {
          stopped = sweep!.stop();
        }, 5);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      return store.findDue(...args);
    });
    const w = await world(7, slow);
    w.clock.advance(2 * HOUR);
    sweep = createExpirySweep({ links: w.links, batchSize: 3, everyMs: 60_000 });
    sweep.start();
    await until("the first sweep to begin", () => (stopped === undefined ? undefined : true), 5_000);
    await stopped;
    expect(inFlight).toBe(0);
    const expired = async () =>
      (await Promise.all(w.ids.map((id) => w.stored(id)))).filter((p) => p.status === "expired").length;
    // One batch of 3, not the whole backlog of 7.
    expect(await expired()).toBe(3);

    // A runOnce queued behind a scheduled sweep is waited for by stop() too, and it clears the backlog.
    const again = createExpirySweep({ links: w.links, batchSize: 3, everyMs: 60_000 });
    calls = 10;
    again.start();
    let onceDone = false;
    const once = again.runOnce().then((result) => {
      onceDone = true;
      return result;
    });
    await again.stop();
    expect(onceDone).toBe(true);
    expect(inFlight).toBe(0);
    expect((await once).isOk()).toBe(true);
    expect(await expired()).toBe(7);
  });

  it("a callback that throws is logged, never a rejection of runOnce", async () => {
    const w = await world(1);
    w.clock.advance(2 * HOUR);
    const sweep = createExpirySweep({
      links: w.links,
      onExpired: () => {
        throw new Error("the caller's bug");
      },
    });
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect((await sweep.runOnce())._unsafeUnwrap()).toBe(1);
      expect(errors).toHaveBeenCalledWith("[paylink/expiry] onExpired threw:", expect.any(Error));
    } finally {
      errors.mockRestore();
    }
  });

  it("refuses an interval or batch size that is not a whole number of at least 1", () => {
    const links = createPaymentLinks({ store: createMemoryStore() });
    for (const everyMs of [0, -5, 1.5, Number.NaN]) {
      expect(() => createExpirySweep({ links, everyMs })).toThrow(/everyMs must be a whole number/);
    }
    expect(() => createExpirySweep({ links, batchSize: 0 })).toThrow(/batchSize must be a whole number/);
  });
});
