import assert from "node:assert/strict";
import { createPaymentLinks, type Scope, type StoredEvent } from "@paylink/core";
import { fakeClock, sampleLinkInput } from "../arbitraries.js";
import type { DeliverySuite, DeliveryTestStore } from "./delivery-kit.js";
import { NEIGHBOURS, ok, SCOPE, START } from "./kit.js";

const SCOPES: readonly Scope[] = [SCOPE, ...NEIGHBOURS];
const where = (scope: Scope) => `${scope.accountId}/${scope.livemode ? "live" : "test"}`;

/**
 * Links created in every scope, interleaved, each canceled once (two events per link), through core:
 * answers the ids of the links of each scope.
 */
async function writeLinks(store: DeliveryTestStore, perScope: number): Promise<Map<Scope, string[]>> {
  const links = createPaymentLinks({ store, clock: fakeClock(START) });
  const ids = new Map<Scope, string[]>(SCOPES.map((scope) => [scope, []]));
  for (let i = 0; i < perScope; i++) {
    for (const scope of SCOPES) {
      const link = ok(await links.create(scope, sampleLinkInput(START)), "law: a valid link is created");
      ids.get(scope)!.push(link.id);
    }
  }
  // Cancels in reverse, so one payment's events are not next to each other in the outbox.
  for (const scope of SCOPES)
    for (const id of [...ids.get(scope)!].reverse())
      ok(await links.cancel(scope, id), "law: a pending link can be canceled");
  return ids;
}

/** The outbox's events of `scope` (and `paymentId`), oldest first, read through `readEvents`. */
async function expected(store: DeliveryTestStore, scope: Scope, paymentId?: string): Promise<StoredEvent[]> {
  return (await store.readEvents(0, Number.MAX_SAFE_INTEGER)).filter(
    ({ event }) =>
      event.accountId === scope.accountId &&
      event.livemode === scope.livemode &&
      (paymentId === undefined || event.paymentId === paymentId),
  );
}

/** Every page of `listEvents` with `limit`, following the cursor. */
async function pageThrough(
  store: DeliveryTestStore,
  scope: Scope,
  limit: number,
  paymentId?: string,
): Promise<StoredEvent[]> {
  const read: StoredEvent[] = [];
  let startingAfter: string | undefined;
  for (let pages = 0; pages < 1_000; pages++) {
    const options = {
      limit,
      ...(startingAfter === undefined ? {} : { startingAfter }),
      ...(paymentId === undefined ? {} : { paymentId }),
    };
    const page = await store.listEvents(scope, options);
    assert.ok(page.length <= limit, `law: listEvents returns at most limit events (got ${page.length})`);
    if (page.length === 0) break;
    read.push(...page);
    startingAfter = page[page.length - 1]!.event.id;
  }
  return read;
}

/** `EventFeed`: the scope's events as `GET /events` pages them. */
export function eventFeedTests({ it }: DeliverySuite): void {
  it("event feed: exactly the scope's events, oldest first, paged by event id", async (store) => {
    assert.deepEqual(
      await store.listEvents(SCOPE, { limit: 10 }),
      [],
      "law: an empty outbox lists no events",
    );
    await writeLinks(store, 3);
    for (const scope of SCOPES) {
      const mine = await expected(store, scope);
      assert.equal(mine.length, 6, "law: each create and cancel writes one event");
      assert.deepEqual(
        await store.listEvents(scope, { limit: 100 }),
        mine,
        `law: ${where(scope)} lists exactly its own events (account and mode), oldest first, as readEvents has them`,
      );
      assert.deepEqual(
        await pageThrough(store, scope, 4),
        mine,
        `law: paging ${where(scope)}'s events by the last event id reads each once, in order`,
      );
      assert.deepEqual(
        await store.listEvents(scope, { limit: 2 }),
        mine.slice(0, 2),
        "law: limit caps a page at the oldest events",
      );
    }
  });

  it("event feed: an unknown cursor, or another scope's event as cursor, gives an empty page", async (store) => {
    await writeLinks(store, 2);
    const mine = await expected(store, SCOPE);
    assert.deepEqual(
      await store.listEvents(SCOPE, { limit: 10, startingAfter: "evt_unknown" }),
      [],
      "law: an unknown cursor gives an empty page",
    );
    for (const neighbour of NEIGHBOURS) {
      const [theirs] = await expected(store, neighbour);
      assert.deepEqual(
        await store.listEvents(SCOPE, { limit: 10, startingAfter: theirs!.event.id }),
        [],
        `law: an event of ${where(neighbour)} as cursor gives an empty page`,
      );
    }
    assert.deepEqual(
      await store.listEvents(SCOPE, { limit: 10, startingAfter: mine[mine.length - 1]!.event.id }),
      [],
      "law: nothing follows the scope's newest event",
    );
  });

  it("event feed: paymentId keeps that payment's events only, paged, and none of another scope's payment", async (store) => {
    const ids = await writeLinks(store, 3);
    const [, target] = ids.get(SCOPE)!;
    const events = await expected(store, SCOPE, target);
    assert.deepEqual(
      events.map(({ event }) => event.type),
      ["payment_link.created", "payment_link.canceled"],
      "law: the payment wrote its created and canceled events",
    );
    assert.deepEqual(
      await store.listEvents(SCOPE, { limit: 10, paymentId: target! }),
      events,
      "law: paymentId lists exactly that payment's events, oldest first",
    );
    assert.deepEqual(
      await pageThrough(store, SCOPE, 1, target),
      events,
      "law: paymentId pages by event id too",
    );
    for (const neighbour of NEIGHBOURS) {
      const [theirs] = ids.get(neighbour)!;
      assert.deepEqual(
        await store.listEvents(SCOPE, { limit: 10, paymentId: theirs! }),
        [],
        `law: a payment of ${where(neighbour)} lists no events in this scope`,
      );
    }
    assert.deepEqual(
      await store.listEvents(SCOPE, { limit: 10, paymentId: "pay_unknown" }),
      [],
      "law: an unknown payment lists no events",
    );
  });

  it("event feed: copies — mutating what listEvents returned changes nothing", async (store) => {
    await writeLinks(store, 1);
    const before = await store.listEvents(SCOPE, { limit: 10 });
    const [first] = await store.listEvents(SCOPE, { limit: 10 });
    Object.assign(first!.event, { type: "scribbled" });
    Object.assign(first!.event.payment, { description: "scribbled" });
    assert.deepEqual(
      await store.listEvents(SCOPE, { limit: 10 }),
      before,
      "law: mutating an event listEvents returned changes nothing",
    );
  });
}
