import assert from "node:assert/strict";
import type { Payment, PaymentRef, Scope } from "@paylink/core";
import {
  insertSample,
  NEIGHBOURS,
  OTHER_ACCOUNT,
  OTHER_MODE,
  SCOPE,
  START,
  type Suite,
  samplePayment,
} from "./kit.js";

/** Reads and copies: round trips, scoping of reads, `findDue` and `list`. */
export function readTests({ it }: Suite): void {
  it("round trip: insert then get returns an equal record, and the probe sees it persisted", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    assert.deepEqual(
      await store.get(SCOPE, payment.id),
      { payment, version: 1 },
      "law: get returns what insert wrote, at version 1",
    );
    assert.deepEqual(
      await probe.raw(SCOPE, payment.id),
      { payment, version: 1 },
      "law: the probe finds the inserted payment persisted",
    );
    assert.deepEqual(
      await probe.events(SCOPE, payment.id),
      [event],
      "law: insert writes its events with the payment",
    );
  });

  it("copies: mutating what get returned or what was inserted does not change the store", async (store) => {
    const payment = samplePayment();
    await store.insert(SCOPE, { payment, version: 1 }, []);
    (payment.metadata as Record<string, unknown>).order = "mutated";
    const read = await store.get(SCOPE, payment.id);
    assert.ok(read, "law: an inserted payment can be read back");
    assert.equal(read.payment.metadata.order, "A-1", "law: the store keeps a copy of what it was given");
    (read.payment.metadata as Record<string, unknown>).order = "mutated again";
    (read.payment as { status: string }).status = "paid";
    const again = await store.get(SCOPE, payment.id);
    assert.equal(again?.payment.metadata.order, "A-1", "law: get hands out a copy (nested metadata)");
    assert.equal(again?.payment.status, "pending", "law: get hands out a copy (top-level fields)");
  });

  it("get: a missing id is undefined", async (store) => {
    assert.equal(await store.get(SCOPE, "pay_missing"), undefined, "law: a missing id reads as undefined");
    assert.equal(await store.get(SCOPE, ""), undefined, "law: the empty id reads as undefined");
  });

  it("scoping: another account or another mode does not see the payment", async (store) => {
    const { payment } = await insertSample(store);
    for (const scope of NEIGHBOURS) {
      assert.equal(
        await store.get(scope, payment.id),
        undefined,
        `law: a payment is invisible to ${describe(scope)}`,
      );
    }
  });

  // Stores may serve reads that arrive together with one query (the SQL stores do): each caller must
  // still get exactly what its own read would have.
  it("scoping: concurrent reads each honour their own scope and get an object of their own", async (store) => {
    const { payment: a } = await insertSample(store);
    const { payment: b } = await insertSample(store, {}, OTHER_ACCOUNT);
    const { payment: c } = await insertSample(store, {}, OTHER_MODE);
    const [a1, a2, aOther, aOtherMode, b1, c1, cHere, missing] = await Promise.all([
      store.get(SCOPE, a.id),
      store.get(SCOPE, a.id),
      store.get(OTHER_ACCOUNT, a.id),
      store.get(OTHER_MODE, a.id),
      store.get(OTHER_ACCOUNT, b.id),
      store.get(OTHER_MODE, c.id),
      store.get(SCOPE, c.id),
      store.get(SCOPE, "pay_missing"),
    ]);
    assert.deepEqual(a1, { payment: a, version: 1 }, "law: a batched read returns the payment");
    assert.deepEqual(a2, { payment: a, version: 1 }, "law: a batched read returns the payment");
    assert.ok(a1 && a2, "law: both reads of one id find it");
    assert.notEqual(a1.payment, a2.payment, "law: two reads of one id never share an object");
    (a1.payment.metadata as Record<string, unknown>).changed = "yes";
    assert.equal(a2.payment.metadata.changed, undefined, "law: two reads of one id never share metadata");
    assert.equal(aOther, undefined, "law: a batched read in another account does not see the payment");
    assert.equal(aOtherMode, undefined, "law: a batched read in the other mode does not see the payment");
    assert.deepEqual(b1, { payment: b, version: 1 }, "law: a batched read in another account sees its own");
    assert.deepEqual(c1, { payment: c, version: 1 }, "law: a batched read in the other mode sees its own");
    assert.equal(cHere, undefined, "law: the other mode's payment is invisible to this mode");
    assert.equal(missing, undefined, "law: a batched read of a missing id is undefined");
  });

  // Key-value stores build keys out of the scope: a naive `${accountId}:${id}` or a prefix scan over
  // `${accountId}` mixes accounts whose ids contain the separator or start with another account's id.
  it("scoping: account ids with separators, wildcards or another account's id as prefix stay apart", async (store) => {
    const accounts = [
      "acct",
      "acct:",
      "acct:live",
      "acct/true",
      "acct%",
      "acct_",
      "acct\\",
      "acct'--",
      "acct 💳",
      "ACCT",
    ];
    const scopes: Scope[] = accounts.flatMap((accountId) => [
      { accountId, livemode: false },
      { accountId, livemode: true },
    ]);
    const owned = new Map<Scope, string>();
    for (const scope of scopes) owned.set(scope, (await insertSample(store, {}, scope)).payment.id);
    for (const scope of scopes) {
      const mine = owned.get(scope)!;
      assert.deepEqual(
        (await store.list(scope, { limit: 50 })).map((p) => p.id),
        [mine],
        `law: ${describe(scope)} lists its own payment and no other account's or mode's`,
      );
      for (const [other, id] of owned) {
        if (other === scope) continue;
        assert.equal(
          await store.get(scope, id),
          undefined,
          `law: ${describe(scope)} does not see the payment of ${describe(other)}`,
        );
      }
    }
  });

  it("findDue: exactly the expirable payments past expiresAt, of every scope, oldest first, at most limit", async (store) => {
    const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000).toISOString();
    const a = await insertSample(store, { expiresAt: at(-30) });
    const b = await insertSample(store, { expiresAt: at(-60), status: "viewed" });
    const c = await insertSample(store, { expiresAt: at(-10), status: "attempted" }, OTHER_ACCOUNT);
    const d = await insertSample(store, { expiresAt: at(-20) }, OTHER_MODE);
    const exactlyNow = await insertSample(store, { expiresAt: at(0) });
    await insertSample(store, { expiresAt: at(30) }); // not due yet
    await insertSample(store, { expiresAt: new Date(START.getTime() + 1).toISOString() }); // due 1 ms later
    await insertSample(store, { expiresAt: at(-90), status: "paid" }); // final
    await insertSample(store, { expiresAt: at(-90), status: "canceled" }); // final
    await insertSample(store, { expiresAt: at(-90), status: "expired" }); // already expired
    await insertSample(store, { expiresAt: at(-90), status: "processing" }); // expires only after its outcome
    await insertSample(store, { kind: "charge", expiresAt: null }); // never expires
    const ref = (scope: Scope, payment: Payment): PaymentRef => ({ scope, id: payment.id });
    const expected = [
      ref(SCOPE, b.payment),
      ref(SCOPE, a.payment),
      ref(OTHER_MODE, d.payment),
      ref(OTHER_ACCOUNT, c.payment),
      ref(SCOPE, exactlyNow.payment),
    ];
    const due = await store.findDue(START.toISOString(), 10);
    assert.deepEqual(
      due.map(label),
      expected.map(label),
      "law: findDue returns exactly the pending, viewed and attempted payments with expiresAt <= now, oldest expiry first",
    );
    assert.deepEqual(due, expected, "law: each due ref carries its payment's own scope");
    assert.deepEqual(
      (await store.findDue(START.toISOString(), 2)).map(label),
      expected.slice(0, 2).map(label),
      "law: findDue returns at most limit refs, the oldest expiries",
    );
    assert.deepEqual(
      (await store.findDue(at(-45), 10)).map(label),
      [label(expected[0]!)],
      "law: findDue compares expiresAt with the given now, not the wall clock",
    );
  });

  it("list: newest first, paged by cursor, confined to the account and the mode", async (store) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const createdAt = new Date(START.getTime() + i * 1000).toISOString();
      ids.push((await insertSample(store, { createdAt, updatedAt: createdAt })).payment.id);
    }
    // Newer than all of ours, so a list that leaks them would show them first.
    const newer = new Date(START.getTime() + 10_000).toISOString();
    const theirs = (await insertSample(store, { createdAt: newer }, OTHER_ACCOUNT)).payment.id;
    const otherMode = (await insertSample(store, { createdAt: newer }, OTHER_MODE)).payment.id;
    const newest = [...ids].reverse();
    const pages: Payment[][] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 3; page++) {
      const listed = await store.list(SCOPE, {
        limit: 2,
        ...(cursor === undefined ? {} : { startingAfter: cursor }),
      });
      pages.push(listed);
      assert.deepEqual(
        listed.map((p) => p.id),
        newest.slice(page * 2, page * 2 + 2),
        `law: page ${page + 1} holds the next payments of the scope, newest first, at most limit`,
      );
      cursor = listed.at(-1)?.id;
    }
    assert.deepEqual(
      await store.list(SCOPE, { limit: 2, startingAfter: newest[4]! }),
      [],
      "law: the page after the last payment is empty",
    );
    assert.deepEqual(
      await store.list(SCOPE, { limit: 2, startingAfter: "pay_unknown" }),
      [],
      "law: an unknown cursor gives an empty page",
    );
    assert.deepEqual(
      await store.list(SCOPE, { limit: 2, startingAfter: theirs }),
      [],
      "law: another account's payment is an unknown cursor",
    );
    const full = await store.get(SCOPE, newest[0]!);
    assert.deepEqual(pages[0]?.[0], full?.payment, "law: list returns whole payments, as get does");
    assert.deepEqual(
      (await store.list(OTHER_ACCOUNT, { limit: 10 })).map((p) => p.id),
      [theirs],
      "law: another account lists only its own payments",
    );
    assert.deepEqual(
      (await store.list(OTHER_MODE, { limit: 10 })).map((p) => p.id),
      [otherMode],
      "law: the other mode lists only its own payments",
    );
  });

  it("list: payments created at the same instant are ordered by id, descending, and paged without loss", async (store) => {
    const createdAt = START.toISOString();
    const ids = ["pay_same_a", "pay_same_c", "pay_same_b", "pay_same_d"].map((id) => `${id}_${process.pid}`);
    for (const id of ids) await insertSample(store, { id, createdAt, updatedAt: createdAt });
    const expected = [...ids].sort().reverse();
    const page1 = await store.list(SCOPE, { limit: 3 });
    assert.equal(page1.length, 3, "law: a full page holds limit payments");
    const page2 = await store.list(SCOPE, { limit: 3, startingAfter: page1[2]!.id });
    assert.deepEqual(
      [...page1, ...page2].map((p) => p.id),
      expected,
      "law: ties on createdAt are broken by id, descending, and the cursor resumes after the tie",
    );
  });
}

function describe(scope: Scope): string {
  return `account ${JSON.stringify(scope.accountId)} in ${scope.livemode ? "live" : "test"} mode`;
}

const label = (ref: PaymentRef) => `${ref.id} in ${describe(ref.scope)}`;
