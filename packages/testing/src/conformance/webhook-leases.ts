import assert from "node:assert/strict";
import type { DeliveryOutcome, WebhookDelivery } from "@paylink/core/store";
import {
  at,
  type DeliverySuite,
  type DeliveryTestStore,
  idSet,
  sampleDelivery,
  sampleEndpoint,
  T0,
  withEndpoint,
} from "./delivery-kit.js";
import { OTHER_ACCOUNT, OTHER_MODE, SCOPE } from "./kit.js";

/** The outcome of a successful attempt at `when`. */
const succeededAt = (attempts: number, when: string): DeliveryOutcome => ({
  status: "succeeded",
  attempts,
  lastStatusCode: 204,
  lastError: null,
  nextAttemptAt: null,
  updatedAt: when,
});

/** Leases as `owner` at `now` for 30 s. */
const lease = (store: DeliveryTestStore, owner: string, now: string, limit = 100) =>
  store.leaseDueDeliveries(owner, now, new Date(Date.parse(now) + 30_000).toISOString(), limit);

/** `leaseDueDeliveries` and `recordAttempt`: the dispatchers' queue. */
export function webhookLeaseTests({ it, concurrency }: DeliverySuite): void {
  it("webhook leases: the oldest pending delivery of each enabled endpoint, only when due, of every scope", async (store) => {
    const a = await withEndpoint(store, sampleEndpoint());
    const b = await withEndpoint(store, sampleEndpoint());
    const disabled = await withEndpoint(
      store,
      sampleEndpoint({ status: "disabled", disabledReason: "gone", failingSince: T0 }),
    );
    const d = await withEndpoint(store, sampleEndpoint());
    const account = await withEndpoint(store, sampleEndpoint({}, OTHER_ACCOUNT));
    const mode = await withEndpoint(store, sampleEndpoint({}, OTHER_MODE));
    const a1 = sampleDelivery(a, 1);
    const a3 = sampleDelivery(a, 3);
    // b's oldest pending delivery is not due yet: the due one after it waits.
    const b2 = sampleDelivery(b, 2, { nextAttemptAt: at(60_000) });
    const b4 = sampleDelivery(b, 4);
    const c5 = sampleDelivery(disabled, 5);
    // Neither a succeeded nor a dead delivery holds up the pending one after it.
    const d6 = sampleDelivery(d, 6, { status: "succeeded", attempts: 1, nextAttemptAt: null });
    const d7 = sampleDelivery(d, 7, { status: "dead", attempts: 9, nextAttemptAt: null });
    const d8 = sampleDelivery(d, 8);
    const x9 = sampleDelivery(account, 9);
    const m10 = sampleDelivery(mode, 10, { nextAttemptAt: at(-1) });
    // Inserted newest first, so a store that leases in insertion order fails.
    await store.insertDeliveries([m10, x9, d8, d7, d6, c5, b4, b2, a3, a1]);

    const leased = await lease(store, "dispatcher-1", T0);
    assert.deepEqual(
      idSet(leased),
      idSet([a1, d8, x9, m10]),
      "law: leaseDueDeliveries answers, for each enabled endpoint of any scope with no live lease, its oldest pending delivery if due — and nothing else",
    );
    const byId = new Map([a1, d8, x9, m10].map((x) => [x.id, x]));
    for (const delivery of leased)
      assert.deepEqual(
        delivery,
        byId.get(delivery.id),
        "law: a leased delivery is answered as it was stored",
      );
    assert.deepEqual(
      await lease(store, "dispatcher-2", at(1_000)),
      [],
      "law: an endpoint with a live lease gets no second delivery; disabled and not-yet-due ones get none",
    );
    assert.deepEqual(
      idSet(await lease(store, "dispatcher-2", at(60_000))),
      // The leases of the first call ended at 30 s: those deliveries are leased again, to the new owner.
      idSet([b2, a1, d8, x9, m10]),
      "law: once due, the oldest pending delivery is leased; a lapsed lease is leased again",
    );
    assert.equal(
      await store.updateEndpoint(SCOPE, disabled.id, {
        status: "enabled",
        disabledReason: null,
        failingSince: null,
      }),
      true,
      "law: its own scope updates an endpoint",
    );
    assert.deepEqual(
      idSet(await lease(store, "dispatcher-3", at(61_000))),
      [c5.id],
      "law: an endpoint enabled again has its oldest pending delivery leased",
    );
  });

  it("webhook leases: at most limit, and the rest on later calls, each delivery once", async (store) => {
    const due: WebhookDelivery[] = [];
    for (let i = 0; i < 5; i++) {
      const endpoint = await withEndpoint(store, sampleEndpoint());
      due.push(sampleDelivery(endpoint, i + 1));
    }
    await store.insertDeliveries(due);
    assert.deepEqual(await lease(store, "dispatcher", T0, 0), [], "law: a limit of 0 leases nothing");
    const pages = [await lease(store, "dispatcher", T0, 2), await lease(store, "dispatcher", T0, 2)];
    for (const page of pages)
      assert.equal(page.length, 2, "law: with more due than limit, exactly limit are leased");
    pages.push(await lease(store, "dispatcher", T0, 5));
    assert.equal(pages[2]!.length, 1, "law: a call leases what is left");
    assert.deepEqual(
      idSet(pages.flat()),
      idSet(due),
      "law: successive calls lease every due delivery exactly once",
    );
    assert.deepEqual(await lease(store, "dispatcher", T0, 5), [], "law: nothing is left to lease");
  });

  it("webhook leases: recordAttempt only by the holder; it ends the lease, so the next lease takes the next delivery", async (store) => {
    const endpoint = await withEndpoint(store, sampleEndpoint());
    const first = sampleDelivery(endpoint, 1);
    const second = sampleDelivery(endpoint, 2);
    await store.insertDeliveries([second, first]);
    assert.deepEqual(
      idSet(await lease(store, "a", T0)),
      [first.id],
      "law: the oldest pending delivery is leased",
    );
    assert.equal(
      await store.recordAttempt(first.id, "b", succeededAt(1, at(1_000))),
      false,
      "law: recordAttempt by another owner answers false",
    );
    assert.deepEqual(
      await store.getDelivery(SCOPE, first.id),
      first,
      "law: a refused recordAttempt changes nothing",
    );
    assert.deepEqual(
      await lease(store, "b", at(1_000)),
      [],
      "law: a refused recordAttempt leaves the lease live",
    );
    assert.equal(
      await store.recordAttempt(first.id, "a", succeededAt(1, at(2_000))),
      true,
      "law: the holder records its attempt",
    );
    assert.deepEqual(
      await store.getDelivery(SCOPE, first.id),
      { ...first, ...succeededAt(1, at(2_000)) },
      "law: recordAttempt writes the outcome's fields, and nothing else",
    );
    assert.equal(
      await store.recordAttempt(first.id, "a", succeededAt(2, at(3_000))),
      false,
      "law: recordAttempt ends the lease: a second one by the same owner answers false",
    );
    assert.deepEqual(
      idSet(await lease(store, "b", at(3_000))),
      [second.id],
      "law: once an attempt is recorded the endpoint's next delivery is leased, before the old lease's end",
    );
    const retry: DeliveryOutcome = {
      status: "pending",
      attempts: 1,
      lastStatusCode: 503,
      lastError: "HTTP 503",
      nextAttemptAt: at(300_000),
      updatedAt: at(4_000),
    };
    assert.equal(await store.recordAttempt(second.id, "b", retry), true, "law: the holder records a failure");
    assert.deepEqual(
      await lease(store, "c", at(299_999)),
      [],
      "law: a delivery waiting for its retry is not due",
    );
    assert.deepEqual(
      await lease(store, "c", at(300_000)),
      [{ ...second, ...retry }],
      "law: at nextAttemptAt the retry is leased, with the attempts recorded",
    );
    assert.deepEqual(
      idSet(await lease(store, "d", at(330_000))),
      [second.id],
      "law: a lease that ended (leaseUntil <= now) is taken over",
    );
    assert.equal(
      await store.recordAttempt(second.id, "c", succeededAt(2, at(331_000))),
      false,
      "law: an owner whose lease was taken over cannot record an attempt",
    );
    assert.equal(
      await store.recordAttempt(second.id, "d", succeededAt(2, at(331_000))),
      true,
      "law: the new holder records its attempt",
    );
    assert.equal(
      await store.recordAttempt("whd_unknown", "d", succeededAt(1, at(331_000))),
      false,
      "law: recordAttempt of an unknown delivery answers false",
    );
  });

  it(`races: ${concurrency} concurrent leaseDueDeliveries by different owners — no delivery leased twice, one per endpoint`, async (store) => {
    const endpoints = [];
    const queued: WebhookDelivery[] = [];
    for (let e = 0; e < 6; e++) {
      const endpoint = await withEndpoint(store, sampleEndpoint({}, e % 2 === 0 ? SCOPE : OTHER_MODE));
      endpoints.push(endpoint);
      for (let n = 0; n < 3; n++) queued.push(sampleDelivery(endpoint, n * 10 + e + 1));
    }
    await store.insertDeliveries(queued);
    const sent: WebhookDelivery[] = [];
    for (let round = 0; round < 3; round++) {
      const now = at(round * 1_000);
      const answers = await Promise.all(
        Array.from({ length: concurrency }, (_, i) => lease(store, `dispatcher-${i}`, now, 4)),
      );
      const leased = answers.flat();
      assert.equal(
        new Set(leased.map((x) => x.id)).size,
        leased.length,
        `law: no delivery is leased twice by ${concurrency} concurrent calls (round ${round + 1})`,
      );
      assert.equal(
        new Set(leased.map((x) => x.endpointId)).size,
        leased.length,
        `law: concurrent calls lease at most one delivery per endpoint (round ${round + 1})`,
      );
      assert.deepEqual(
        idSet(leased),
        idSet(queued.filter((x) => Math.floor(x.sequence / 10) === round)),
        `law: together the calls lease each endpoint's oldest pending delivery (round ${round + 1})`,
      );
      for (const [i, answer] of answers.entries())
        for (const delivery of answer)
          assert.equal(
            await store.recordAttempt(delivery.id, `dispatcher-${i}`, succeededAt(1, now)),
            true,
            "law: each holder records its attempt",
          );
      sent.push(...leased);
    }
    assert.deepEqual(idSet(sent), idSet(queued), "law: every delivery was leased exactly once");
  });
}
