import { createPaymentLinks, type Scope, type StoredEvent } from "@paylink/core";
import { createRelay, type Sink } from "@paylink/relay";
import { createMemoryStore } from "@paylink/store-memory";
import { fakeClock, sampleLinkInput } from "@paylink/testing";
import { afterEach, describe, expect, it, vi } from "vitest";

const scope: Scope = { accountId: "acct_relay", livemode: false };
const START = new Date("2030-01-01T00:00:00.000Z");

function setup() {
  const store = createMemoryStore();
  const clock = fakeClock(START);
  const links = createPaymentLinks({ store, clock });
  return { store, clock, links };
}

/** A sink that records what it was handed; `fail` makes its next batches reject. */
function recordingSink(name: string) {
  const received: StoredEvent[] = [];
  const sink = {
    name,
    fail: 0,
    batches: 0,
    async deliver(events: readonly StoredEvent[]) {
      sink.batches++;
      if (sink.fail > 0) {
        sink.fail--;
        throw new Error(`${name} is down`);
      }
      received.push(...events);
    },
  };
  return { sink, received };
}

/** Creates `n` links and cancels every second one: 1.5 × n events. */
async function write(links: ReturnType<typeof setup>["links"], n: number) {
  for (let i = 0; i < n; i++) {
    const link = (await links.create(scope, sampleLinkInput(START)))._unsafeUnwrap();
    if (i % 2 === 0) await links.cancel(scope, link.id);
  }
}

const ids = (events: readonly StoredEvent[]) => events.map((e) => e.event.id);

describe("the relay", () => {
  it("runOnce hands every sink every event once, in outbox order, in batches", async () => {
    const { store, links } = setup();
    await write(links, 10);
    const a = recordingSink("a");
    const b = recordingSink("b");
    const relay = createRelay({ store, sinks: [a.sink, b.sink], batchSize: 4, clock: fakeClock(START) });
    const runs = await relay.runOnce();
    expect(runs).toEqual([
      { sink: "a", delivered: 15, outcome: "caught_up" },
      { sink: "b", delivered: 15, outcome: "caught_up" },
    ]);
    const all = await store.readEvents(0, 100);
    expect(ids(a.received)).toEqual(ids(all));
    expect(ids(b.received)).toEqual(ids(all));
    expect(a.sink.batches).toBe(4);
    // Nothing new: nothing handed again.
    expect((await relay.runOnce()).map((r) => r.delivered)).toEqual([0, 0]);
    expect(a.received).toHaveLength(15);
  });

  it("a failing sink backs off alone; its batch comes again, whole, once it recovers", async () => {
    const { store, links } = setup();
    await write(links, 4);
    const good = recordingSink("good");
    const bad = recordingSink("bad");
    bad.sink.fail = 1;
    const errors: string[] = [];
    const relay = createRelay({
      store,
      sinks: [bad.sink, good.sink],
      onError: (_error, sink) => errors.push(sink),
    });
    expect(await relay.runOnce()).toEqual([
      { sink: "bad", delivered: 0, outcome: "failed" },
      { sink: "good", delivered: 6, outcome: "caught_up" },
    ]);
    expect(errors).toEqual(["bad"]);
    await relay.runOnce();
    expect(ids(bad.received)).toEqual(ids(good.received));
  });

  it("two relays on one store: a sink is handed each event by one of them; a stopped relay's lease is free at once, a dead one's after it lapses", async () => {
    const { store, links } = setup();
    await write(links, 6);
    const clock = fakeClock(START);
    const shared = recordingSink("shared");
    const one = createRelay({ store, sinks: [shared.sink], owner: "one", clock, leaseMs: 10_000 });
    const two = createRelay({ store, sinks: [shared.sink], owner: "two", clock, leaseMs: 10_000 });
    expect((await one.runOnce())[0]!.outcome).toBe("caught_up");
    // One still holds the lease (it did not stop): two is kept out.
    await write(links, 2);
    expect((await two.runOnce())[0]).toEqual({ sink: "shared", delivered: 0, outcome: "leased_elsewhere" });
    // One dies without releasing; once its lease lapses, two takes over where one left off.
    clock.advance(10_000);
    expect((await two.runOnce())[0]).toEqual({ sink: "shared", delivered: 3, outcome: "caught_up" });
    expect(ids(shared.received)).toEqual(ids(await store.readEvents(0, 100)));
    // Two stops and releases: one may take over at once.
    await two.stop();
    await write(links, 2);
    expect((await one.runOnce())[0]).toEqual({ sink: "shared", delivered: 3, outcome: "caught_up" });
  });

  it("a relay whose lease was taken over cannot move the cursor: the new holder hands the batch again", async () => {
    const { store, links } = setup();
    await write(links, 2);
    const clock = fakeClock(START);
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowSink: Sink = { name: "s", deliver: () => stalled };
    const fast = recordingSink("s");
    const slow = createRelay({ store, sinks: [slowSink], owner: "slow", clock, leaseMs: 60_000 });
    const running = slow.runOnce();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // A pause longer than the lease (the process frozen: its renewal timer, every 20 s here, never ran).
    clock.advance(60_000);
    const other = createRelay({ store, sinks: [fast.sink], owner: "fast", clock, leaseMs: 60_000 });
    expect((await other.runOnce())[0]!.delivered).toBe(3);
    release();
    expect((await running)[0]!.outcome).toBe("leased_elsewhere");
    expect((await store.sinkPositions()).find((p) => p.sink === "s")).toMatchObject({
      owner: "fast",
      position: 3,
    });
  });

  it("renews its lease while a sink works on a batch: a batch slower than the lease is never handed by two relays at once", async () => {
    const { store, links } = setup();
    await write(links, 2);
    let inFlight = 0;
    let overlaps = 0;
    const slowSink = (name: string): Sink => ({
      name,
      async deliver() {
        inFlight++;
        if (inFlight > 1) overlaps++;
        await new Promise((resolve) => setTimeout(resolve, 300));
        inFlight--;
      },
    });
    const a = createRelay({ store, sinks: [slowSink("s")], owner: "a", leaseMs: 100 });
    const b = createRelay({ store, sinks: [slowSink("s")], owner: "b", leaseMs: 100 });
    const first = a.runOnce();
    await new Promise((resolve) => setTimeout(resolve, 150));
    // A's lease would have lapsed at 100 ms without renewal.
    expect((await b.runOnce())[0]).toEqual({ sink: "s", delivered: 0, outcome: "leased_elsewhere" });
    expect((await first)[0]).toEqual({ sink: "s", delivered: 3, outcome: "caught_up" });
    expect(overlaps).toBe(0);
    // Stopped, A releases at once, and no renewal in flight takes the lease back afterwards.
    await a.stop();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await store.sinkPositions()).find((p) => p.sink === "s")).toMatchObject({
      owner: null,
      position: 3,
    });
  });

  it("holding its lease, it writes nothing to the store on an idle poll or a wake; it claims again as the lease runs out", async () => {
    const { store, links } = setup();
    await write(links, 1);
    let claims = 0;
    const counted = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== "claimSink") return value;
        return (...args: Parameters<typeof store.claimSink>) => {
          claims++;
          return store.claimSink(...args);
        };
      },
    });
    const clock = fakeClock(START);
    const sink = recordingSink("idle");
    const relay = createRelay({ store: counted, sinks: [sink.sink], owner: "r", clock, leaseMs: 9_000 });
    expect((await relay.runOnce())[0]!.delivered).toBe(2);
    for (let i = 0; i < 5; i++) await relay.runOnce();
    expect(claims).toBe(1);
    // Two thirds of the lease gone: the next run renews it first.
    clock.advance(6_000);
    await write(links, 1);
    expect((await relay.runOnce())[0]!.delivered).toBe(2);
    expect(claims).toBe(2);
    expect(ids(sink.received)).toEqual(ids(await store.readEvents(0, 100)));
  });

  it("runOnce while started runs as one of the loop's runs: a sink never has two batches at once", async () => {
    const { store, links } = setup();
    await write(links, 3);
    let inFlight = 0;
    let most = 0;
    const handed: string[] = [];
    const sink: Sink = {
      name: "one-at-a-time",
      async deliver(batch) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 30));
        handed.push(...batch.map((e) => e.event.id));
        inFlight--;
      },
    };
    const relay = createRelay({ store, sinks: [sink], pollMs: 5, batchSize: 2 });
    // A script's runOnce, then the loop started while it drains: the loop's first run must wait for it.
    const once = relay.runOnce();
    relay.start();
    await once;
    await write(links, 2);
    await Promise.all([relay.runOnce(), relay.runOnce()]);
    await relay.stop();
    expect(most).toBe(1);
    // Every event handed, none twice (one relay, one owner: nothing to hand again).
    expect(handed).toEqual(ids(await store.readEvents(0, 100)));
  });

  it("started, it delivers right after a commit in this process (no poll wait), and reports its lag", async () => {
    const { store, clock } = setup();
    const sink = recordingSink("live");
    const relay = createRelay({ store, sinks: [sink.sink], pollMs: 60_000, clock });
    const links = createPaymentLinks({ store: relay.notifying(store), clock });
    relay.start();
    const link = (await links.create(scope, sampleLinkInput(START)))._unsafeUnwrap();
    await expect.poll(() => sink.received.length, { timeout: 1000, interval: 5 }).toBe(1);
    expect(sink.received[0]!.event.paymentId).toBe(link.id);
    await relay.stop();
    // Stopped: a write waits, and the lag says so.
    await links.cancel(scope, link.id);
    clock.advance(30_000);
    expect(await relay.lag()).toEqual([{ sink: "live", events: 1, seconds: 30 }]);
    await relay.runOnce();
    expect(await relay.lag()).toEqual([{ sink: "live", events: 0, seconds: 0 }]);
  });

  it("refuses two sinks of one name (they would share a cursor)", () => {
    const { store } = setup();
    const a = recordingSink("x");
    expect(() => createRelay({ store, sinks: [a.sink, a.sink] })).toThrow(/two sinks are named "x"/);
  });
});

describe("the relay's default backoff", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("retries a failing sink first within seconds, doubling, and never waits more than a minute", async () => {
    const { store, links } = setup();
    await write(links, 1);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    const attempts: number[] = [];
    const sink: Sink = {
      name: "down",
      async deliver() {
        attempts.push(Date.now());
        throw new Error("the provider is down");
      },
    };
    // No `backoff`, no `pollMs`: the defaults, as an application that sets nothing gets them.
    const relay = createRelay({ store, sinks: [sink], onError: () => {} });
    relay.start();
    for (let second = 0; second < 600; second++) await vi.advanceTimersByTimeAsync(1_000);
    await relay.stop();
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
    // 1, 2, 4, 8, 16, 32 s, then the 60 s cap (the 1 s poll may add up to a second to a wait).
    gaps.slice(0, 6).forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(1_000 * 2 ** i);
      expect(gap).toBeLessThanOrEqual(1_000 * 2 ** i + 1_000);
    });
    for (const gap of gaps.slice(6)) {
      expect(gap).toBeGreaterThanOrEqual(60_000);
      expect(gap).toBeLessThanOrEqual(61_000);
    }
    // Ten minutes of a provider outage: about 6 + 8 attempts, never a minute-long silence more.
    expect(gaps.length).toBeGreaterThanOrEqual(12);
  });
});
