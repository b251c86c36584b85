import {
  type CommandOptions,
  createPaymentLinks,
  type Payment,
  PaymentSchema,
  type PaymentStore,
  type Scope,
} from "@paylink/core";
import { createMemoryStore } from "@paylink/store-memory";
import { type FakeClock, fakeClock } from "@paylink/testing";
import { describe, expect, test } from "vitest";
import { linkInput, recordingGateway, SCOPE, setup } from "./helpers.js";

const HOUR = 3_600_000;

/** Commands with a gateway over a fresh memory store and fake clock. */
function withGateway(options: { maxRetries?: number } = {}) {
  const fake = recordingGateway();
  return { ...fake, ...setup({ gateway: fake.gateway, ...options }) };
}

/** Ids handed out in order by the id generator, then `pay_x<n>`. */
function idsOf(...given: string[]) {
  let events = 0;
  let extra = 0;
  return {
    paymentId: () => given.shift() ?? `pay_x${++extra}`,
    eventId: () => `evt_${++events}`,
  };
}

const eventTypes = async (store: PaymentStore) =>
  (await store.readEvents(0, 1000)).map((stored) => stored.event.type);

/** Claims `key` in the memory store, as a transport does before it runs the command. */
async function claimed(
  store: ReturnType<typeof createMemoryStore>,
  clock: FakeClock,
  key: string,
  scope: Scope = SCOPE,
  onStored?: () => void,
): Promise<CommandOptions> {
  const token = `token_${key}`;
  const at = clock.now().toISOString();
  const taken = await store.claimIdempotencyKey(
    scope,
    { key, fingerprint: key, response: null, createdAt: at, token, lockedUntil: at },
    new Date(0).toISOString(),
  );
  expect(taken).toBeUndefined();
  return {
    idempotency: {
      key,
      token,
      respond: (payment) => ({ status: 200, body: JSON.stringify({ id: payment.id }) }),
      ...(onStored === undefined ? {} : { onStored }),
    },
  };
}

describe("providerState is written only for a provider object or a provider payment", () => {
  test("a view, a cancel or an expiry of a link without a provider object writes no providerState", async () => {
    const { links, clock, store } = setup();
    const viewed = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const canceled = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const expired = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const written = [
      (await links.view(SCOPE, viewed.id))._unsafeUnwrap(),
      (await links.cancel(SCOPE, canceled.id))._unsafeUnwrap().payment,
    ];
    clock.advance(2 * HOUR);
    written.push((await links.get(SCOPE, expired.id))._unsafeUnwrap());
    expect(written.map((payment) => payment.status)).toEqual(["viewed", "canceled", "expired"]);
    for (const payment of written) {
      expect("providerState" in payment).toBe(false);
      expect("providerState" in (await store.get(SCOPE, payment.id))!.payment).toBe(false);
    }
    for (const { event } of await store.readEvents(0, 100)) {
      expect("providerState" in event.payment).toBe(false);
    }
  });

  test("a provider payment on a link without a provider object is recorded, with no object to stop", async () => {
    const { links, clock, store } = setup();
    const { id } = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const providerPayment = { reference: "pi_1" };
    const paid = (await links.paymentSucceeded(SCOPE, id, { providerPayment }))._unsafeUnwrap();
    expect(paid.status).toBe("paid");
    expect(paid.providerState).toEqual({
      reference: null,
      stop: "none",
      stopDetail: null,
      paymentReference: "pi_1",
      refund: "none",
      refundDetail: null,
      refundReference: null,
    });
    // Reported again, it is the same payment: a read.
    expect((await links.paymentSucceeded(SCOPE, id, { providerPayment }))._unsafeUnwrap()).toEqual(paid);
    expect((await store.get(SCOPE, id))?.payment).toEqual(paid);
  });

  test("a late payment keeps the link's provider object and its pending stop", async () => {
    const { links, clock } = withGateway();
    const created = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    await links.cancel(SCOPE, created.id);
    const late = (
      await links.paymentSucceeded(SCOPE, created.id, { providerPayment: { reference: "pi_1" } })
    )._unsafeUnwrap();
    expect(late.providerState).toEqual({
      reference: created.providerState?.reference,
      stop: "pending",
      stopDetail: null,
      paymentReference: "pi_1",
      refund: "none",
      refundDetail: null,
      refundReference: null,
    });
  });

  test("a provider payment is recorded only by a write that announces a payment", async () => {
    const { links, clock, store } = withGateway();
    const { id } = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const providerPayment = { reference: "pi_1" };
    const viewed = (await links.view(SCOPE, id, { providerPayment }))._unsafeUnwrap();
    expect(viewed.status).toBe("viewed");
    expect(viewed.providerState?.paymentReference).toBeNull();
    const started = (await links.startPayment(SCOPE, id, { providerPayment }))._unsafeUnwrap();
    expect(started.status).toBe("processing");
    expect(started.providerState?.paymentReference).toBeNull();
    const paid = (await links.paymentSucceeded(SCOPE, id, { providerPayment }))._unsafeUnwrap();
    expect(paid.providerState?.paymentReference).toBe("pi_1");
    expect(await eventTypes(store)).toEqual([
      "payment_link.created",
      "payment_link.viewed",
      "payment_link.payment_started",
      "payment_link.paid",
    ]);
  });
});

describe("the stop a cancel or an expiry asks for", () => {
  test("a stop already answered is not set back to pending by a cancel or an expiry", async () => {
    const { links, clock, store } = withGateway();
    const confirmed = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const refused = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    // The provider answered for open links (its object was closed there, or is gone).
    await links.recordProviderStop(SCOPE, confirmed.id, { outcome: "confirmed" });
    await links.recordProviderStop(SCOPE, refused.id, { outcome: "refused", detail: "No such link" });

    const canceled = (await links.cancel(SCOPE, confirmed.id))._unsafeUnwrap().payment;
    expect(canceled.status).toBe("canceled");
    expect(canceled.providerState).toMatchObject({ stop: "confirmed", stopDetail: null });
    clock.advance(2 * HOUR);
    const expired = (await links.get(SCOPE, refused.id))._unsafeUnwrap();
    expect(expired.status).toBe("expired");
    expect(expired.providerState).toMatchObject({ stop: "refused", stopDetail: "No such link" });
    for (const { event } of await store.readEvents(0, 100)) {
      expect(event.payment.providerState?.stop).not.toBe("pending");
    }
  });
});

describe("records of the provider's answers", () => {
  async function canceledLink(options: { maxRetries?: number } = {}) {
    const context = withGateway(options);
    const { id } = (await context.links.create(SCOPE, linkInput(context.clock.now())))._unsafeUnwrap();
    await context.links.cancel(SCOPE, id);
    return { ...context, id };
  }

  async function latePayment(reference = "pi_1") {
    const context = await canceledLink();
    await context.links.paymentSucceeded(SCOPE, context.id, { providerPayment: { reference } });
    return context;
  }

  test("recordProviderStop: a second refusal changes nothing; a confirmation still replaces a refusal", async () => {
    const { links, store, id } = await canceledLink();
    const first = (
      await links.recordProviderStop(SCOPE, id, { outcome: "refused", detail: "first" })
    )._unsafeUnwrap();
    expect(first.changed).toBe(true);
    const again = (
      await links.recordProviderStop(SCOPE, id, { outcome: "refused", detail: "second" })
    )._unsafeUnwrap();
    expect(again).toEqual({ payment: first.payment, changed: false });
    expect(again.payment.providerState).toMatchObject({ stop: "refused", stopDetail: "first" });
    const confirmed = (await links.recordProviderStop(SCOPE, id, { outcome: "confirmed" }))._unsafeUnwrap();
    expect(confirmed.changed).toBe(true);
    expect(confirmed.payment.providerState).toMatchObject({ stop: "confirmed", stopDetail: null });
    const types = await eventTypes(store);
    expect(types.filter((type) => type === "payment_link.provider_stop_refused")).toHaveLength(1);
    expect(types.filter((type) => type === "payment_link.provider_stopped")).toHaveLength(1);
  });

  test("recordRefund refused is recorded once with its reason and refund_refused event, and is final", async () => {
    const { links, store, id } = await latePayment("pi_1");
    const refused = (
      await links.recordRefund(SCOPE, id, {
        outcome: "refused",
        paymentReference: "pi_1",
        detail: "charge disputed",
      })
    )._unsafeUnwrap();
    expect(refused.changed).toBe(true);
    expect(refused.payment.providerState).toMatchObject({
      paymentReference: "pi_1",
      refund: "refused",
      refundDetail: "charge disputed",
      refundReference: null,
    });
    const later = [
      { outcome: "refused", paymentReference: "pi_1", detail: "again" },
      { outcome: "pending", paymentReference: "pi_1", reference: "re_1" },
      { outcome: "succeeded", paymentReference: "pi_1", reference: "re_1" },
    ] as const;
    for (const record of later) {
      expect((await links.recordRefund(SCOPE, id, record))._unsafeUnwrap()).toEqual({
        payment: refused.payment,
        changed: false,
      });
    }
    const types = await eventTypes(store);
    expect(types.filter((type) => type === "payment_link.refund_refused")).toHaveLength(1);
    expect(types).not.toContain("payment_link.refunded");
    const event = (await store.readEvents(0, 100)).find(
      (s) => s.event.type === "payment_link.refund_refused",
    );
    expect(event?.event.payment).toEqual(refused.payment);
  });

  test("recordRefund: the same pending answer twice is one refunded event", async () => {
    const { links, store, id } = await latePayment("pi_1");
    const record = { outcome: "pending", paymentReference: "pi_1", reference: "re_1" } as const;
    const first = (await links.recordRefund(SCOPE, id, record))._unsafeUnwrap();
    expect(first.changed).toBe(true);
    expect((await links.recordRefund(SCOPE, id, record))._unsafeUnwrap()).toEqual({
      payment: first.payment,
      changed: false,
    });
    const types = await eventTypes(store);
    expect(types.filter((type) => type === "payment_link.refunded")).toHaveLength(1);
  });

  test("a record is one write: the next version, updatedAt now, its event carrying the payment as written", async () => {
    const { links, store, clock, id } = await canceledLink();
    const before = (await store.get(SCOPE, id))!;
    clock.advance(60_000);
    const recorded = (await links.recordProviderStop(SCOPE, id, { outcome: "confirmed" }))._unsafeUnwrap();
    expect(recorded.payment.updatedAt).toBe(clock.now().toISOString());
    expect(await store.get(SCOPE, id)).toEqual({ payment: recorded.payment, version: before.version + 1 });
    const last = (await store.readEvents(0, 100)).at(-1)?.event;
    expect(last).toMatchObject({
      type: "payment_link.provider_stopped",
      previousStatus: "canceled",
      payment: recorded.payment,
    });
  });

  test("a record that loses its swap reads again, at most maxRetries + 1 times, then answers conflict", async () => {
    for (const losses of [2, 3]) {
      const { store, clock, id } = await canceledLink();
      let lost = 0;
      let swaps = 0;
      const racing: PaymentStore = {
        ...store,
        compareAndSwap: async (...args) => {
          swaps++;
          if (lost < losses) {
            lost++;
            return false;
          }
          return store.compareAndSwap(...args);
        },
      };
      const links = createPaymentLinks({ store: racing, clock, maxRetries: 2 });
      const result = await links.recordProviderStop(SCOPE, id, { outcome: "confirmed" });
      expect(swaps).toBe(3);
      if (losses === 2) {
        expect(result._unsafeUnwrap().changed).toBe(true);
        expect((await store.get(SCOPE, id))?.payment.providerState?.stop).toBe("confirmed");
      } else {
        expect(result._unsafeUnwrapErr()).toMatchObject({ code: "conflict", id });
        expect((await store.get(SCOPE, id))?.payment.providerState?.stop).toBe("pending");
      }
    }
  });

  test("a malformed scope, and ids that can name no payment, are answered before the store is asked", async () => {
    const { store, id } = await canceledLink();
    const reads: unknown[] = [];
    const watched: PaymentStore = {
      ...store,
      get: (scope, readId) => {
        reads.push(readId);
        return store.get(scope, readId);
      },
    };
    const links = createPaymentLinks({ store: watched, clock: fakeClock() });
    const badScope = { accountId: "", livemode: false };
    expect(
      (await links.recordProviderStop(badScope, id, { outcome: "confirmed" }))._unsafeUnwrapErr().code,
    ).toBe("invalid_request");
    const refund = { outcome: "refused", paymentReference: "pi_1", detail: "x" } as const;
    for (const bad of ["", "x".repeat(256), 42 as unknown as string]) {
      expect(
        (await links.recordProviderStop(SCOPE, bad, { outcome: "confirmed" }))._unsafeUnwrapErr(),
      ).toEqual({
        code: "not_found",
        message: "No such payment.",
        id: String(bad),
      });
      expect((await links.recordRefund(SCOPE, bad, refund))._unsafeUnwrapErr().code).toBe("not_found");
    }
    expect(reads).toEqual([]);
    // 255 characters can be an id: the store is asked.
    const longest = "x".repeat(255);
    expect((await links.recordRefund(SCOPE, longest, refund))._unsafeUnwrapErr().code).toBe("not_found");
    expect(reads).toEqual([longest]);
  });

  test("a record on a payment without a provider object says so, naming the id", async () => {
    const { links, clock } = setup();
    const { id } = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const failure = (await links.recordProviderStop(SCOPE, id, { outcome: "confirmed" }))._unsafeUnwrapErr();
    expect(failure).toMatchObject({
      code: "invalid_request",
      issues: [{ path: "id", message: "this payment has no provider object" }],
    });
  });
});

describe("onStored", () => {
  test("onStored is called exactly when the answer was written with the command", async () => {
    const clock = fakeClock();
    const store = createMemoryStore();
    const links = createPaymentLinks({ store, clock });
    const calls: string[] = [];
    const key = (name: string) => claimed(store, clock, name, SCOPE, () => calls.push(name));

    const { id } = (await links.create(SCOPE, linkInput(clock.now()), await key("create")))._unsafeUnwrap();
    (await links.view(SCOPE, id, await key("view")))._unsafeUnwrap();
    // A second view writes nothing: no answer was stored with it.
    (await links.view(SCOPE, id, await key("view again")))._unsafeUnwrap();
    expect(calls).toEqual(["create", "view"]);

    // A refused command writes its due expiry, but not its answer.
    clock.advance(2 * HOUR);
    const refused = await links.startPayment(SCOPE, id, await key("refused"));
    expect(refused._unsafeUnwrapErr().code).toBe("link_not_payable");
    expect((await store.get(SCOPE, id))?.payment.status).toBe("expired");
    expect(calls).toEqual(["create", "view"]);
  });
});

describe("create with a gateway", () => {
  test("a charge may name any provider: only links are made at the gateway's provider", async () => {
    const { links, createdFor } = withGateway();
    const charge = (
      await links.create(SCOPE, {
        kind: "charge",
        customerId: "cus_1",
        provider: "dna",
        amountSubtotal: 500,
        currency: "GBP",
      })
    )._unsafeUnwrap();
    expect(charge).toMatchObject({ kind: "charge", provider: "dna", status: "pending" });
    expect(createdFor).toEqual([]);
  });

  test("a keyed create's id is pay_ and 24 URL-safe characters, one for each scope, key and request", async () => {
    const start = new Date("2026-01-01T00:00:00.000Z");
    /** The id a keyed create gets in a fresh store: it depends on nothing else. */
    const idOf = async (input = linkInput(start), key = "order-42", scope = SCOPE) => {
      const { links, clock, store } = withGateway();
      const payment = (
        await links.create(scope, input, await claimed(store, clock, key, scope))
      )._unsafeUnwrap();
      return payment.id;
    };
    const id = await idOf();
    expect(id).toMatch(/^pay_[A-Za-z0-9_-]{24}$/);
    expect(await idOf()).toBe(id);
    // The metadata is read in key order.
    expect(await idOf(linkInput(start, { metadata: { b: "2", a: "1" } }))).toBe(
      await idOf(linkInput(start, { metadata: { a: "1", b: "2" } })),
    );
    const others = [
      await idOf(linkInput(start), "order-43"),
      await idOf(linkInput(start), "order-42", { accountId: "acct_2", livemode: false }),
      await idOf(linkInput(start), "order-42", { accountId: "acct_1", livemode: true }),
      await idOf(linkInput(start, { customerId: "cus_2" })),
      await idOf(linkInput(start, { amountSubtotal: 1001 })),
      await idOf(linkInput(start, { taxAmount: 201 })),
      await idOf(linkInput(start, { currency: "EUR" })),
      await idOf(linkInput(start, { description: "For flat white" })),
      await idOf(linkInput(start, { metadata: { order: "A-2" } })),
      await idOf(linkInput(start, { expiresAt: new Date(start.getTime() + 2 * HOUR) })),
      await idOf({
        kind: "charge",
        customerId: "cus_1",
        provider: "stripe",
        amountSubtotal: 1000,
        currency: "GBP",
      }),
      await idOf({
        kind: "charge",
        customerId: "cus_1",
        provider: "dna",
        amountSubtotal: 1000,
        currency: "GBP",
      }),
    ];
    for (const other of others) expect(other).toMatch(/^pay_[A-Za-z0-9_-]{24}$/);
    expect(new Set([id, ...others]).size).toBe(others.length + 1);
  });

  test("without a gateway, a keyed create takes its id from the id generator", async () => {
    const clock = fakeClock();
    const store = createMemoryStore();
    const links = createPaymentLinks({ store, clock, ids: idsOf("pay_generated") });
    const payment = (
      await links.create(SCOPE, linkInput(clock.now()), await claimed(store, clock, "order-42"))
    )._unsafeUnwrap();
    expect(payment.id).toBe("pay_generated");
  });
});

describe("an id collision at create, with a gateway", () => {
  function collide(...ids: string[]) {
    const fake = recordingGateway();
    const store = createMemoryStore();
    const clock = fakeClock();
    const links = createPaymentLinks({ store, clock, gateway: fake.gateway, ids: idsOf(...ids) });
    return { ...fake, store, clock, links };
  }
  const charge = {
    kind: "charge",
    customerId: "cus_1",
    provider: "stripe",
    amountSubtotal: 500,
    currency: "GBP",
  } as const;

  test("a charge's lost id has no provider object: nothing is stopped", async () => {
    const { links, clock, stopped } = collide("pay_same", "pay_same", "pay_other");
    await links.create(SCOPE, linkInput(clock.now()));
    const second = (await links.create(SCOPE, charge))._unsafeUnwrap();
    expect(second.id).toBe("pay_other");
    expect(stopped).toEqual([]);
  });

  test("a link's lost id held by a payment without a provider object, or in another scope: the new object is stopped", async () => {
    for (const holder of ["charge", "other scope"] as const) {
      const { links, clock, stopped } = collide("pay_same", "pay_same", "pay_other");
      if (holder === "charge") await links.create(SCOPE, charge);
      else await links.create({ accountId: "acct_2", livemode: false }, linkInput(clock.now()));
      const link = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
      expect(link.id).toBe("pay_other");
      // The charge made no provider object; another scope's link made fk_1.
      const [lost, kept] = holder === "charge" ? ["fk_1", "fk_2"] : ["fk_2", "fk_3"];
      expect(link.providerState?.reference).toBe(kept);
      expect(stopped).toEqual([lost]);
    }
  });
});

describe("the provider state as the schema describes it", () => {
  test("every provider state the commands write is a valid PaymentSchema payment; other values are not", async () => {
    const { links, clock, store } = withGateway();
    const written: Payment[] = [];
    const keep = (payment: Payment) => {
      written.push(payment);
      return payment.id;
    };
    const link = async () => keep((await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap());
    const open = await link(); // stop none, refund none
    const stopped = await link();
    await links.cancel(SCOPE, stopped); // stop pending
    await links.recordProviderStop(SCOPE, stopped, { outcome: "confirmed" });
    const refusedStop = await link();
    await links.cancel(SCOPE, refusedStop);
    await links.recordProviderStop(SCOPE, refusedStop, { outcome: "refused", detail: "unknown link" });
    for (const outcome of ["pending", "succeeded", "refused"] as const) {
      const late = await link();
      await links.cancel(SCOPE, late);
      await links.paymentSucceeded(SCOPE, late, { providerPayment: { reference: `pi_${outcome}` } });
      await links.paymentSucceeded(SCOPE, late, { providerPayment: { reference: `pi_${outcome}_2` } });
      await links.recordRefund(
        SCOPE,
        late,
        outcome === "refused"
          ? { outcome, paymentReference: `pi_${outcome}_2`, detail: "disputed" }
          : { outcome, paymentReference: `pi_${outcome}_2`, reference: `re_${outcome}` },
      );
    }
    for (const { event } of await store.readEvents(0, 1000)) written.push(event.payment);
    const states = new Set(written.map((p) => `${p.providerState?.stop}/${p.providerState?.refund}`));
    // Every value of both enums was written at least once.
    for (const value of ["none", "pending", "confirmed", "refused"]) {
      expect([...states].some((s) => s.startsWith(`${value}/`))).toBe(true);
    }
    for (const value of ["none", "pending", "succeeded", "refused"]) {
      expect([...states].some((s) => s.endsWith(`/${value}`))).toBe(true);
    }
    expect(written.some((p) => p.providerState?.earlierPaymentReferences !== undefined)).toBe(true);
    for (const payment of written) expect(PaymentSchema.safeParse(payment).success, payment.id).toBe(true);

    const sample = (await links.get(SCOPE, open))._unsafeUnwrap();
    for (const wrong of [
      { stop: "stopped" },
      { refund: "done" },
      { extra: 1 },
      { earlierPaymentReferences: [1] },
    ]) {
      const payment = { ...sample, providerState: { ...sample.providerState!, ...wrong } };
      expect(PaymentSchema.safeParse(payment).success, JSON.stringify(wrong)).toBe(false);
    }
  });

  test("a single provider payment writes no earlierPaymentReferences key at all", async () => {
    const { links, clock } = withGateway();
    const link = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const paid = (
      await links.paymentSucceeded(SCOPE, link.id, { providerPayment: { reference: "pi_1" } })
    )._unsafeUnwrap();
    expect(paid.providerState?.paymentReference).toBe("pi_1");
    expect("earlierPaymentReferences" in paid.providerState!).toBe(false);
  });
});
