import assert from "node:assert/strict";
import { insertSample, NEIGHBOURS, SCOPE, START, type Suite, sampleEvent, samplePayment } from "./kit.js";

/** Writes: `insert` of a taken id, and compare-and-swap on the version, in scope and out of it. */
export function writeTests({ it }: Suite): void {
  it("insert: an existing id returns false and writes nothing, in this scope or any other", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    const other = { ...payment, description: "other" };
    assert.equal(
      await store.insert(SCOPE, { payment: other, version: 1 }, [sampleEvent(other)]),
      false,
      "law: insert of a taken id answers false",
    );
    for (const scope of NEIGHBOURS) {
      const elsewhere = { ...other, livemode: scope.livemode };
      assert.equal(
        await store.insert(scope, { payment: elsewhere, version: 1 }, [
          sampleEvent(elsewhere, undefined, scope),
        ]),
        false,
        `law: insert of an id taken in another scope answers false (${scope.accountId}, livemode ${scope.livemode})`,
      );
      assert.equal(
        await probe.raw(scope, payment.id),
        undefined,
        "law: an insert refused for a taken id creates no payment in its own scope",
      );
      assert.deepEqual(
        await probe.events(scope, payment.id),
        [],
        "law: an insert refused for a taken id writes no event in its own scope",
      );
    }
    assert.deepEqual(
      await probe.raw(SCOPE, payment.id),
      { payment, version: 1 },
      "law: a refused insert leaves the stored payment as it was",
    );
    assert.deepEqual(await probe.events(SCOPE, payment.id), [event], "law: a refused insert writes no event");
  });

  it("scoping: compareAndSwap from another account or mode writes nothing", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    for (const scope of NEIGHBOURS) {
      const next = { payment: { ...payment, status: "canceled" as const }, version: 2 };
      assert.equal(
        await store.compareAndSwap(scope, next, 1, [sampleEvent(next.payment, undefined, scope)]),
        false,
        `law: compareAndSwap outside the payment's scope answers false (${scope.accountId}, livemode ${scope.livemode})`,
      );
      assert.deepEqual(
        await probe.events(scope, payment.id),
        [],
        "law: a compareAndSwap outside the payment's scope writes no event",
      );
    }
    assert.deepEqual(
      await probe.raw(SCOPE, payment.id),
      { payment, version: 1 },
      "law: a compareAndSwap outside the payment's scope leaves it as it was",
    );
    assert.deepEqual(
      await probe.events(SCOPE, payment.id),
      [event],
      "law: a compareAndSwap outside the payment's scope writes no event",
    );
  });

  it("compareAndSwap: the expected version writes the state and its events together", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    const canceled = { ...payment, status: "canceled" as const, canceledAt: START.toISOString() };
    const canceledEvent = sampleEvent(canceled, "payment_link.canceled");
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: canceled, version: 2 }, 1, [canceledEvent]),
      true,
      "law: compareAndSwap at the stored version answers true",
    );
    assert.deepEqual(
      await probe.raw(SCOPE, payment.id),
      { payment: canceled, version: 2 },
      "law: a won compareAndSwap persists the next state and version",
    );
    assert.deepEqual(
      await store.get(SCOPE, payment.id),
      { payment: canceled, version: 2 },
      "law: get reads what a won compareAndSwap wrote",
    );
    assert.deepEqual(
      await probe.events(SCOPE, payment.id),
      [event, canceledEvent],
      "law: a won compareAndSwap appends its events after the earlier ones",
    );
  });

  it("compareAndSwap: a stale version writes nothing, neither state nor event", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    const viewed = { ...payment, status: "viewed" as const };
    const viewedEvent = sampleEvent(viewed, "payment_link.viewed");
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: viewed, version: 2 }, 1, [viewedEvent]),
      true,
      "law: compareAndSwap at the stored version answers true",
    );
    const stale = { ...payment, status: "canceled" as const };
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: stale, version: 2 }, 1, [sampleEvent(stale)]),
      false,
      "law: compareAndSwap at a version older than the stored one answers false",
    );
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: stale, version: 4 }, 3, [sampleEvent(stale)]),
      false,
      "law: compareAndSwap at a version newer than the stored one answers false",
    );
    assert.deepEqual(
      await probe.raw(SCOPE, payment.id),
      { payment: viewed, version: 2 },
      "law: a lost compareAndSwap leaves the winner's state and version",
    );
    assert.deepEqual(
      await probe.events(SCOPE, payment.id),
      [event, viewedEvent],
      "law: a lost compareAndSwap writes no event",
    );
  });

  it("compareAndSwap: a missing payment returns false and writes no event", async (store, probe) => {
    const payment = samplePayment();
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment, version: 2 }, 1, [sampleEvent(payment)]),
      false,
      "law: compareAndSwap of a missing payment answers false",
    );
    assert.equal(
      await probe.raw(SCOPE, payment.id),
      undefined,
      "law: compareAndSwap never creates a payment",
    );
    assert.deepEqual(
      await probe.events(SCOPE, payment.id),
      [],
      "law: compareAndSwap of a missing payment writes no event",
    );
  });
}
