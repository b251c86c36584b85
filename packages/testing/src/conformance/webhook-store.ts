import assert from "node:assert/strict";
import type { WebhookDelivery } from "@paylink/core/store";
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
import { NEIGHBOURS, SCOPE } from "./kit.js";
import { webhookLeaseTests } from "./webhook-leases.js";

/** Every delivery of `endpointId` in `scope`, newest first. */
const allDeliveries = (store: DeliveryTestStore, scope: typeof SCOPE, endpointId: string) =>
  store.listDeliveries(scope, endpointId, { limit: 1_000 });

/** `WebhookStore`: endpoints and deliveries confined to a scope, copies, the queue's rules. */
export function webhookStoreTests(suite: DeliverySuite): void {
  const { it } = suite;

  it("webhook endpoints: round trip, oldest first (by createdAt, then id), and copies", async (store) => {
    const late = await withEndpoint(
      store,
      sampleEndpoint({ createdAt: at(2_000), events: ["payment_link.paid"] }),
    );
    const tieB = await withEndpoint(store, sampleEndpoint({ id: `${late.id}_b`, createdAt: at(1_000) }));
    const tieA = await withEndpoint(store, sampleEndpoint({ id: `${late.id}_a`, createdAt: at(1_000) }));
    const first = sampleEndpoint({
      events: ["payment_link.canceled", "payment_link.expired"],
      status: "disabled",
      disabledReason: "gone",
      failingSince: T0,
    });
    await store.insertEndpoint(first);
    assert.deepEqual(
      await store.getEndpoint(SCOPE, first.id),
      first,
      "law: getEndpoint answers what was inserted",
    );
    assert.deepEqual(
      await store.listEndpoints(SCOPE),
      [first, tieA, tieB, late],
      "law: listEndpoints answers the scope's endpoints, oldest first, ties by id",
    );
    assert.equal(await store.getEndpoint(SCOPE, "we_missing"), undefined, "law: an unknown id is undefined");

    (first.events as string[]).push("payment_link.paid");
    const got = (await store.getEndpoint(SCOPE, first.id))!;
    assert.deepEqual(
      got.events,
      ["payment_link.canceled", "payment_link.expired"],
      "law: mutating the inserted endpoint (its events) does not change the store",
    );
    (got as { url: string }).url = "https://evil.example/";
    (got.events as string[]).length = 0;
    const [listed] = await store.listEndpoints(SCOPE);
    (listed!.events as string[]).push("payment_link.viewed");
    assert.deepEqual(
      await store.getEndpoint(SCOPE, first.id),
      { ...first, events: ["payment_link.canceled", "payment_link.expired"] },
      "law: mutating what getEndpoint or listEndpoints returned does not change the store",
    );
  });

  it("webhook endpoints: another account or mode cannot see, list, update or delete them", async (store) => {
    const mine = await withEndpoint(store, sampleEndpoint());
    const theirs = [];
    for (const neighbour of NEIGHBOURS) theirs.push(await withEndpoint(store, sampleEndpoint({}, neighbour)));
    const patch = { status: "disabled", disabledReason: "failing", failingSince: T0 } as const;
    for (const [i, neighbour] of NEIGHBOURS.entries()) {
      const where = `${neighbour.accountId}/${neighbour.livemode ? "live" : "test"}`;
      assert.equal(
        await store.getEndpoint(neighbour, mine.id),
        undefined,
        `law: ${where} does not get the endpoint`,
      );
      assert.deepEqual(
        await store.listEndpoints(neighbour),
        [theirs[i]],
        `law: ${where} lists its own endpoints only`,
      );
      assert.equal(
        await store.updateEndpoint(neighbour, mine.id, patch),
        false,
        `law: ${where} cannot update it`,
      );
      assert.equal(await store.deleteEndpoint(neighbour, mine.id), false, `law: ${where} cannot delete it`);
    }
    assert.deepEqual(
      await store.listEndpoints(SCOPE),
      [mine],
      "law: the endpoint is unchanged by other scopes' updates and deletes, and listed alone in its scope",
    );
    assert.equal(await store.updateEndpoint(SCOPE, mine.id, patch), true, "law: its own scope updates it");
    assert.deepEqual(
      await store.getEndpoint(SCOPE, mine.id),
      { ...mine, ...patch },
      "law: an update changes status, disabledReason and failingSince, and nothing else",
    );
    assert.equal(
      await store.updateEndpoint(SCOPE, "we_missing", patch),
      false,
      "law: updating an unknown endpoint answers false",
    );
    assert.equal(await store.deleteEndpoint(SCOPE, mine.id), true, "law: its own scope deletes it");
    assert.equal(await store.getEndpoint(SCOPE, mine.id), undefined, "law: a deleted endpoint is gone");
    assert.equal(await store.deleteEndpoint(SCOPE, mine.id), false, "law: a second delete answers false");
    for (const [i, neighbour] of NEIGHBOURS.entries())
      assert.deepEqual(
        await store.listEndpoints(neighbour),
        [theirs[i]],
        "law: other scopes' endpoints stay",
      );
  });

  it("webhook deliveries: another account or mode cannot list, get or revive them", async (store) => {
    const endpoint = await withEndpoint(store, sampleEndpoint());
    const pending = sampleDelivery(endpoint, 1);
    const dead = sampleDelivery(endpoint, 2, { status: "dead", attempts: 9, nextAttemptAt: null });
    await store.insertDeliveries([pending, dead]);
    for (const neighbour of NEIGHBOURS) {
      const where = `${neighbour.accountId}/${neighbour.livemode ? "live" : "test"}`;
      // The neighbour has an endpoint and deliveries of its own, so an unscoped query would show up.
      const own = await withEndpoint(store, sampleEndpoint({}, neighbour));
      const ownDelivery = sampleDelivery(own, 3);
      await store.insertDeliveries([ownDelivery]);
      assert.deepEqual(
        await allDeliveries(store, neighbour, endpoint.id),
        [],
        `law: ${where} lists none of another scope's endpoint's deliveries`,
      );
      assert.deepEqual(
        await allDeliveries(store, neighbour, own.id),
        [ownDelivery],
        `law: ${where} lists its own deliveries`,
      );
      assert.equal(
        await store.getDelivery(neighbour, pending.id),
        undefined,
        `law: ${where} does not get it`,
      );
      assert.equal(
        await store.reviveDelivery(neighbour, dead.id, at(1_000)),
        undefined,
        `law: ${where} cannot revive it`,
      );
    }
    assert.deepEqual(
      await store.getDelivery(SCOPE, dead.id),
      dead,
      "law: other scopes' revives change nothing",
    );
    assert.deepEqual(
      await allDeliveries(store, SCOPE, endpoint.id),
      [dead, pending],
      "law: its own scope lists exactly its endpoint's deliveries, newest first",
    );
  });

  it("webhook deliveries: an (endpoint, event) pair is queued once; a missing or deleted endpoint gets none", async (store) => {
    const endpoint = await withEndpoint(store, sampleEndpoint());
    const other = await withEndpoint(store, sampleEndpoint());
    const first = sampleDelivery(endpoint, 1);
    await store.insertDeliveries([first]);
    const again = sampleDelivery(endpoint, 1, { eventId: first.eventId, payload: "{}" });
    const twinA = sampleDelivery(endpoint, 2);
    const twinB = sampleDelivery(endpoint, 2, { eventId: twinA.eventId });
    const elsewhere = sampleDelivery(other, 1, { eventId: first.eventId });
    const orphan = sampleDelivery(sampleEndpoint(), 1);
    await store.insertDeliveries([again, twinA, twinB, elsewhere, orphan]);
    assert.deepEqual(
      await allDeliveries(store, SCOPE, endpoint.id),
      [twinA, first],
      "law: a delivery whose (endpoint, event) pair exists is skipped, in a later call or the same one; the first stays",
    );
    assert.equal(
      await store.getDelivery(SCOPE, again.id),
      undefined,
      "law: a skipped duplicate is not stored",
    );
    assert.deepEqual(
      await allDeliveries(store, SCOPE, other.id),
      [elsewhere],
      "law: the same event is queued once per endpoint, for every endpoint",
    );
    assert.equal(
      await store.getDelivery(SCOPE, orphan.id),
      undefined,
      "law: a delivery of an endpoint that does not exist is skipped",
    );

    assert.equal(
      await store.deleteEndpoint(SCOPE, endpoint.id),
      true,
      "law: its own scope deletes an endpoint",
    );
    assert.equal(
      await store.getDelivery(SCOPE, first.id),
      undefined,
      "law: deleting an endpoint deletes its deliveries",
    );
    assert.deepEqual(
      await allDeliveries(store, SCOPE, endpoint.id),
      [],
      "law: a deleted endpoint lists no deliveries",
    );
    const afterDelete = sampleDelivery(endpoint, 3);
    await store.insertDeliveries([afterDelete]);
    assert.equal(
      await store.getDelivery(SCOPE, afterDelete.id),
      undefined,
      "law: a delivery of a deleted endpoint is skipped",
    );
    assert.deepEqual(
      await allDeliveries(store, SCOPE, other.id),
      [elsewhere],
      "law: deleting an endpoint leaves other endpoints' deliveries",
    );
    assert.deepEqual(
      await store.leaseDueDeliveries("dispatcher", T0, at(30_000), 10),
      [elsewhere],
      "law: a deleted endpoint's deliveries are never leased",
    );
  });

  it("webhook deliveries: copies — mutating what was inserted or returned changes nothing", async (store) => {
    const endpoint = await withEndpoint(store, sampleEndpoint());
    const delivery = sampleDelivery(endpoint, 1);
    const kept: WebhookDelivery = { ...delivery };
    await store.insertDeliveries([delivery]);
    const scribble = (d: WebhookDelivery | undefined) =>
      Object.assign(d as object, { status: "succeeded", attempts: 42, payload: "scribbled" });
    scribble(delivery);
    assert.deepEqual(
      await store.getDelivery(SCOPE, kept.id),
      kept,
      "law: mutating the inserted delivery changes nothing",
    );
    scribble(await store.getDelivery(SCOPE, kept.id));
    scribble((await allDeliveries(store, SCOPE, endpoint.id))[0]);
    scribble((await store.leaseDueDeliveries("dispatcher", T0, at(30_000), 10))[0]);
    assert.deepEqual(
      await store.getDelivery(SCOPE, kept.id),
      kept,
      "law: mutating what getDelivery, listDeliveries or leaseDueDeliveries returned changes nothing",
    );
  });

  it("webhook deliveries: listDeliveries pages newest first (by sequence); an unknown cursor gives an empty page", async (store) => {
    const endpoint = await withEndpoint(store, sampleEndpoint());
    const noise = await withEndpoint(store, sampleEndpoint());
    const bySequence = [5, 1, 4, 2, 3].map((sequence) => sampleDelivery(endpoint, sequence));
    await store.insertDeliveries(bySequence);
    await store.insertDeliveries([sampleDelivery(noise, 6), sampleDelivery(noise, 0)]);
    const expected = [...bySequence].sort((a, b) => b.sequence - a.sequence);
    const read: WebhookDelivery[] = [];
    let startingAfter: string | undefined;
    for (let pages = 0; pages <= expected.length; pages++) {
      const page = await store.listDeliveries(
        SCOPE,
        endpoint.id,
        startingAfter === undefined ? { limit: 2 } : { limit: 2, startingAfter },
      );
      assert.ok(page.length <= 2, `law: listDeliveries returns at most limit (got ${page.length})`);
      if (page.length === 0) break;
      read.push(...page);
      startingAfter = page[page.length - 1]!.id;
    }
    assert.deepEqual(
      read,
      expected,
      "law: paging by the last id reads the endpoint's deliveries once, newest first",
    );
    assert.deepEqual(
      await store.listDeliveries(SCOPE, endpoint.id, { limit: 2, startingAfter: "whd_unknown" }),
      [],
      "law: an unknown cursor gives an empty page",
    );
    assert.deepEqual(
      idSet(await store.listDeliveries(SCOPE, endpoint.id, { limit: 3 })),
      idSet(expected.slice(0, 3)),
      "law: limit caps the first page",
    );
    assert.deepEqual(
      await store.listDeliveries(SCOPE, "we_unknown", { limit: 10 }),
      [],
      "law: an unknown endpoint has no deliveries",
    );
  });

  it("webhook deliveries: reviveDelivery makes a dead delivery pending, due at now, keeping its attempts", async (store) => {
    const endpoint = await withEndpoint(store, sampleEndpoint());
    const dead = sampleDelivery(endpoint, 1, {
      status: "dead",
      attempts: 9,
      lastStatusCode: 500,
      lastError: "HTTP 500",
      nextAttemptAt: null,
    });
    const succeeded = sampleDelivery(endpoint, 2, { status: "succeeded", attempts: 1, nextAttemptAt: null });
    const pending = sampleDelivery(endpoint, 3, { nextAttemptAt: at(3_600_000) });
    await store.insertDeliveries([dead, succeeded, pending]);
    for (const [name, delivery] of [
      ["succeeded", succeeded],
      ["pending", pending],
    ] as const) {
      assert.equal(
        await store.reviveDelivery(SCOPE, delivery.id, at(1_000)),
        undefined,
        `law: a ${name} delivery cannot be revived`,
      );
      assert.deepEqual(
        await store.getDelivery(SCOPE, delivery.id),
        delivery,
        `law: a refused revive changes nothing`,
      );
    }
    assert.equal(
      await store.reviveDelivery(SCOPE, "whd_unknown", at(1_000)),
      undefined,
      "law: an unknown id is undefined",
    );
    const revived = await store.reviveDelivery(SCOPE, dead.id, at(1_000));
    assert.deepEqual(
      revived && { status: revived.status, nextAttemptAt: revived.nextAttemptAt, attempts: revived.attempts },
      { status: "pending", nextAttemptAt: at(1_000), attempts: 9 },
      "law: a revived delivery is pending, due at now, with its attempts kept",
    );
    const { status, nextAttemptAt, updatedAt, attempts, lastStatusCode, lastError, ...identity } = dead;
    const {
      status: _s,
      nextAttemptAt: _n,
      updatedAt: _u,
      attempts: _a,
      lastStatusCode: _c,
      lastError: _e,
      ...same
    } = revived!;
    assert.deepEqual(
      same,
      identity,
      "law: reviving changes neither the delivery's event, payload nor endpoint",
    );
    assert.deepEqual(
      await store.getDelivery(SCOPE, dead.id),
      revived,
      "law: the revived delivery is stored as answered",
    );
    assert.equal(
      await store.reviveDelivery(SCOPE, dead.id, at(2_000)),
      undefined,
      "law: a revived delivery is no longer dead and cannot be revived again",
    );
    assert.deepEqual(
      idSet(await store.leaseDueDeliveries("dispatcher", at(1_000), at(31_000), 10)),
      [dead.id],
      "law: a revived delivery is due at once, before the endpoint's later deliveries",
    );
  });

  webhookLeaseTests(suite);
}
