import { type CreateLinkResult, createPaymentLinks } from "@paylink/core";
import { createMemoryStore } from "@paylink/store-memory";
import { fakeClock } from "@paylink/testing";
import { describe, expect, test } from "vitest";
import { linkInput, recordingGateway, SCOPE, setup } from "./helpers.js";

const eventTypes = async (store: ReturnType<typeof createMemoryStore>) =>
  (await store.readEvents(0, 1000)).map((stored) => stored.event.type);

describe("createPaymentLinks({ gateway })", () => {
  test("create makes the provider's object first: its URL is the link's, its reference the provider state", async () => {
    const { gateway, createdFor } = recordingGateway();
    const { links, clock } = setup({ gateway });
    const payment = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    expect(createdFor).toHaveLength(1);
    expect(createdFor[0]?.id).toBe(payment.id);
    expect(payment.url).toMatch(/^https:\/\/pay\.fake\/fk_\d+$/);
    expect(payment.providerState).toEqual({
      reference: payment.url.slice("https://pay.fake/".length),
      stop: "none",
      stopDetail: null,
      paymentReference: null,
      refund: "none",
      refundReference: null,
      refundDetail: null,
    });
    expect((await links.get(SCOPE, payment.id))._unsafeUnwrap()).toEqual(payment);
  });

  test("a link named for another provider is invalid_request: its stop could never be carried out", async () => {
    const { gateway, createdFor } = recordingGateway();
    const { links, clock, store } = setup({ gateway });
    const failure = (
      await links.create(SCOPE, { ...linkInput(clock.now()), provider: "dna" })
    )._unsafeUnwrapErr();
    expect(failure).toMatchObject({
      code: "invalid_request",
      issues: [{ path: "provider", message: expect.stringContaining('"stripe"') }],
    });
    expect(createdFor).toHaveLength(0);
    expect(await store.readEvents(0, 10)).toEqual([]);
  });

  test("without a gateway, and for charges, there is no provider object and no providerState", async () => {
    const plain = setup();
    const link = (await plain.links.create(SCOPE, linkInput(plain.clock.now())))._unsafeUnwrap();
    expect("providerState" in link).toBe(false);
    const { gateway, createdFor } = recordingGateway();
    const withGateway = setup({ gateway });
    const charge = (
      await withGateway.links.create(SCOPE, {
        kind: "charge",
        customerId: "cus_1",
        provider: "stripe",
        amountSubtotal: 500,
        currency: "GBP",
      })
    )._unsafeUnwrap();
    expect(createdFor).toHaveLength(0);
    expect("providerState" in charge).toBe(false);
  });

  test.each([
    [{ outcome: "retry_later", detail: "HTTP 429", retryAfterMs: 2000 } as const, "provider_unavailable"],
    [{ outcome: "refused", reason: "currency not supported" } as const, "provider_refused"],
  ])("a provider that answers %o: %s, and nothing is stored", async (answer, code) => {
    const { gateway } = recordingGateway(() => answer);
    const { links, clock, store } = setup({ gateway });
    const failure = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrapErr();
    expect(failure.code).toBe(code);
    if (failure.code === "provider_unavailable") expect(failure.retryAfterMs).toBe(2000);
    if (failure.code === "provider_refused") expect(failure.message).toContain("currency not supported");
    expect(await store.readEvents(0, 10)).toEqual([]);
    expect((await links.list(SCOPE))._unsafeUnwrap()).toEqual([]);
  });

  test("a gateway that throws is provider_unavailable, never a rejection", async () => {
    const { gateway } = recordingGateway(() => Promise.reject(new Error("socket hang up")));
    const { links, clock } = setup({ gateway });
    const failure = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrapErr();
    // Strict: no `retryAfterMs` key at all when the provider named no wait.
    expect(failure).toStrictEqual({
      code: "provider_unavailable",
      message: expect.stringContaining("provider"),
    });
  });

  test("a keyed create retried after it died asks the provider again for the same payment id", async () => {
    const { gateway, createdFor } = recordingGateway();
    const store = createMemoryStore();
    const clock = fakeClock();
    const claim = async (token: string) =>
      store.claimIdempotencyKey(
        SCOPE,
        {
          key: "create-1",
          fingerprint: "f",
          response: null,
          createdAt: clock.now().toISOString(),
          token,
          lockedUntil: clock.now().toISOString(),
        },
        new Date(0).toISOString(),
      );
    const respond = () => ({ status: 200, body: "{}" });
    // The first attempt dies between the provider's answer and the insert.
    const dying = createPaymentLinks({
      store: { ...store, insert: () => Promise.reject(new Error("killed")) },
      clock,
      gateway,
    });
    await claim("first");
    const died = await dying.create(SCOPE, linkInput(clock.now()), {
      idempotency: { key: "create-1", token: "first", respond },
    });
    expect(died.isErr()).toBe(true);
    // The retry takes the key over (its lease ended) and creates.
    expect(await claim("second")).toBeUndefined();
    const links = createPaymentLinks({ store, clock, gateway });
    const created = (
      await links.create(SCOPE, linkInput(clock.now()), {
        idempotency: { key: "create-1", token: "second", respond },
      })
    )._unsafeUnwrap();
    expect(createdFor.map((p) => p.id)).toEqual([created.id, created.id]);
    // Another key, or another scope, is another id.
    const other = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    expect(other.id).not.toBe(created.id);
  });

  test("an id collision stops the provider object made for the lost id, and creates another", async () => {
    const { gateway, createdFor, stopped } = recordingGateway();
    const ids = ["pay_same", "pay_same", "pay_other"];
    const store = createMemoryStore();
    const clock = fakeClock();
    const links = createPaymentLinks({
      store,
      clock,
      gateway,
      ids: { paymentId: () => ids.shift() ?? "pay_x", eventId: () => `evt_${Math.random()}` },
    });
    await links.create(SCOPE, linkInput(clock.now()));
    const second = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    expect(second.id).toBe("pay_other");
    expect(createdFor.map((p) => p.id)).toEqual(["pay_same", "pay_same", "pay_other"]);
    // The second object, made for the colliding id, is stopped; the first and third stay payable.
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).not.toBe(second.providerState?.reference);
  });
});

describe("an idempotency key reused after its retention", () => {
  /**
   * A provider that, like Stripe (its idempotency key) and DNA (the invoice id), answers a payment id it
   * has seen with the object it made for it, and refuses that id with another amount (Stripe's
   * `idempotency_error`).
   */
  /**
   * A provider that, like Stripe (its idempotency key) and DNA (the invoice id), answers a payment id it
   * has seen with the object it made for it, and refuses that id with another amount (Stripe's
   * `idempotency_error`).
   */
  function dedupingGateway() {
    const objects = new Map<string, { reference: string; amount: number }>();
    return recordingGateway((payment): CreateLinkResult => {
      let object = objects.get(payment.id);
      if (object !== undefined && object.amount !== payment.amountTotal)
        return { outcome: "refused", reason: "idempotency_error: another request with this key" };
      if (object === undefined) {
        object = { reference: `plink_${objects.size + 1}`, amount: payment.amountTotal };
        objects.set(payment.id, object);
      }
      return { outcome: "created", reference: object.reference, url: `https://pay.fake/${object.reference}` };
    });
  }

  const MONTH = 30 * 86_400_000;

  /** Two creates under one key, the key's record gone between them (its 24 h are over). */
  async function reuse(second: { amountSubtotal: number }) {
    const { gateway, createdFor, stopped } = dedupingGateway();
    const store = createMemoryStore();
    const clock = fakeClock();
    const links = createPaymentLinks({ store, clock, gateway });
    const respond = () => ({ status: 200, body: "{}" });
    const expiresAt = new Date(clock.now().getTime() + MONTH);
    const claim = (token: string, expiredBefore: Date) =>
      store.claimIdempotencyKey(
        SCOPE,
        {
          key: "order-42",
          fingerprint: token,
          response: null,
          createdAt: clock.now().toISOString(),
          token,
          lockedUntil: clock.now().toISOString(),
        },
        expiredBefore.toISOString(),
      );
    expect(await claim("t1", new Date(0))).toBeUndefined();
    const first = (
      await links.create(SCOPE, linkInput(clock.now(), { expiresAt: expiresAt }), {
        idempotency: { key: "order-42", token: "t1", respond },
      })
    )._unsafeUnwrap();
    clock.advance(25 * 3_600_000);
    expect(await claim("t2", clock.now())).toBeUndefined();
    const next = (
      await links.create(SCOPE, linkInput(clock.now(), { ...second, expiresAt: expiresAt }), {
        idempotency: { key: "order-42", token: "t2", respond },
      })
    )._unsafeUnwrap();
    return { first, next, createdFor, stopped };
  }

  test("the same body: the provider's answer for the old id is the live link of the old payment, never stopped", async () => {
    const { first, next, createdFor, stopped } = await reuse({ amountSubtotal: 1000 });
    expect(first.amountSubtotal).toBe(1000);
    expect(next.id).not.toBe(first.id);
    expect(next.providerState?.reference).not.toBe(first.providerState?.reference);
    expect(createdFor.map((p) => p.id)).toEqual([first.id, first.id, next.id]);
    expect(stopped).toEqual([]);
  });

  test("another body: another id, so the provider makes a new object instead of refusing the key", async () => {
    const { first, next, createdFor, stopped } = await reuse({ amountSubtotal: 2500 });
    expect(next.amountTotal).not.toBe(first.amountTotal);
    expect(createdFor.map((p) => p.id)).toEqual([first.id, next.id]);
    expect(stopped).toEqual([]);
  });
});

describe("the stop is written with the cancel or the expiry", () => {
  test("a cancel marks the stop pending in the same write as its event; a second cancel changes nothing", async () => {
    const { gateway } = recordingGateway();
    const { links, clock, store } = setup({ gateway });
    const payment = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const canceled = (await links.cancel(SCOPE, payment.id))._unsafeUnwrap();
    expect(canceled.payment.providerState?.stop).toBe("pending");
    const events = await store.readEvents(0, 100);
    const cancelEvent = events.find((stored) => stored.event.type === "payment_link.canceled");
    expect(cancelEvent?.event.payment.providerState?.stop).toBe("pending");
    const again = (await links.cancel(SCOPE, payment.id))._unsafeUnwrap();
    expect(again.changed).toBe(false);
    expect(await store.readEvents(0, 100)).toHaveLength(events.length);
  });

  test("a lazy expiry marks the stop pending too", async () => {
    const { gateway } = recordingGateway();
    const { links, clock, store } = setup({ gateway });
    const payment = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    clock.advance(2 * 3_600_000);
    const read = (await links.get(SCOPE, payment.id))._unsafeUnwrap();
    expect(read.status).toBe("expired");
    expect(read.providerState?.stop).toBe("pending");
    const expired = (await store.readEvents(0, 100)).find((s) => s.event.type === "payment_link.expired");
    expect(expired?.event.payment.providerState?.stop).toBe("pending");
  });

  test("a view or a payment start leaves the stop alone", async () => {
    const { gateway } = recordingGateway();
    const { links, clock } = setup({ gateway });
    const payment = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    await links.view(SCOPE, payment.id);
    const started = (await links.startPayment(SCOPE, payment.id))._unsafeUnwrap();
    expect(started.providerState?.stop).toBe("none");
  });
});

describe("provider payments and the records of the provider's answers", () => {
  async function canceledLink() {
    const { gateway } = recordingGateway();
    const context = setup({ gateway });
    const payment = (await context.links.create(SCOPE, linkInput(context.clock.now())))._unsafeUnwrap();
    await context.links.cancel(SCOPE, payment.id);
    return { ...context, id: payment.id };
  }

  test("a provider payment on a canceled link is one late payment, however often it is reported", async () => {
    const { links, store, id } = await canceledLink();
    const providerPayment = { reference: "pi_1" };
    const late = (await links.paymentSucceeded(SCOPE, id, { providerPayment }))._unsafeUnwrap();
    expect(late.status).toBe("canceled");
    expect(late.providerState?.paymentReference).toBe("pi_1");
    for (let i = 0; i < 3; i++) {
      expect((await links.paymentSucceeded(SCOPE, id, { providerPayment }))._unsafeUnwrap()).toEqual(late);
    }
    const types = await eventTypes(store);
    expect(types.filter((type) => type === "payment_link.late_payment")).toHaveLength(1);
  });

  test("a second, different provider payment on a canceled link is a late payment of its own, refund state fresh", async () => {
    const { links, store, id } = await canceledLink();
    await links.paymentSucceeded(SCOPE, id, { providerPayment: { reference: "pi_1" } });
    await links.recordRefund(SCOPE, id, {
      outcome: "succeeded",
      paymentReference: "pi_1",
      reference: "re_1",
    });
    // A provider that let two payments through (two sessions open at once): the second is its own late
    // payment, and its refund is still to do: the first's "succeeded" must not make the sink skip it.
    const second = (
      await links.paymentSucceeded(SCOPE, id, { providerPayment: { reference: "pi_2" } })
    )._unsafeUnwrap();
    expect(second.status).toBe("canceled");
    expect(second.providerState).toMatchObject({
      paymentReference: "pi_2",
      refund: "none",
      refundReference: null,
      refundDetail: null,
    });
    const types = await eventTypes(store);
    expect(types.filter((type) => type === "payment_link.late_payment")).toHaveLength(2);
    const done = (
      await links.recordRefund(SCOPE, id, {
        outcome: "succeeded",
        paymentReference: "pi_2",
        reference: "re_2",
      })
    )._unsafeUnwrap();
    expect(done.payment.providerState).toMatchObject({
      refund: "succeeded",
      refundReference: "re_2",
      earlierPaymentReferences: ["pi_1"],
    });
    // The first payment reported again (another webhook event, a stop's already_paid): a read, not a
    // third late payment, and the second's refund stays recorded.
    for (const reference of ["pi_1", "pi_2"]) {
      const again = (
        await links.paymentSucceeded(SCOPE, id, { providerPayment: { reference } })
      )._unsafeUnwrap();
      expect(again).toEqual(done.payment);
    }
    expect((await eventTypes(store)).filter((type) => type === "payment_link.late_payment")).toHaveLength(2);
  });

  test("a payment on an open link records its provider payment with the paid event", async () => {
    const { gateway } = recordingGateway();
    const { links, clock, store } = setup({ gateway });
    const payment = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const paid = (
      await links.paymentSucceeded(SCOPE, payment.id, { providerPayment: { reference: "pi_9" } })
    )._unsafeUnwrap();
    expect(paid.status).toBe("paid");
    expect(paid.providerState).toMatchObject({ paymentReference: "pi_9", stop: "none" });
    const paidEvent = (await store.readEvents(0, 100)).find((s) => s.event.type === "payment_link.paid");
    expect(paidEvent?.event.payment.providerState?.paymentReference).toBe("pi_9");
  });

  test("recordProviderStop: confirmed once, with its event; a later refusal does not undo it", async () => {
    const { links, store, id } = await canceledLink();
    const first = (await links.recordProviderStop(SCOPE, id, { outcome: "confirmed" }))._unsafeUnwrap();
    expect(first.changed).toBe(true);
    expect(first.payment.providerState?.stop).toBe("confirmed");
    expect(first.payment.status).toBe("canceled");
    const again = (await links.recordProviderStop(SCOPE, id, { outcome: "confirmed" }))._unsafeUnwrap();
    expect(again).toEqual({ payment: first.payment, changed: false });
    const refused = await links.recordProviderStop(SCOPE, id, { outcome: "refused", detail: "x" });
    expect(refused._unsafeUnwrap().changed).toBe(false);
    const types = await eventTypes(store);
    expect(types.filter((type) => type === "payment_link.provider_stopped")).toHaveLength(1);
    expect(types).not.toContain("payment_link.provider_stop_refused");
  });

  test("recordProviderStop: a refusal is recorded with its reason and event", async () => {
    const { links, store, id } = await canceledLink();
    const refused = (
      await links.recordProviderStop(SCOPE, id, { outcome: "refused", detail: "No such payment_link" })
    )._unsafeUnwrap();
    expect(refused.payment.providerState).toMatchObject({
      stop: "refused",
      stopDetail: "No such payment_link",
    });
    expect(await eventTypes(store)).toContain("payment_link.provider_stop_refused");
  });

  test("recordRefund: only the link's own provider payment, once, never back from a final answer", async () => {
    const { links, store, id } = await canceledLink();
    await links.paymentSucceeded(SCOPE, id, { providerPayment: { reference: "pi_1" } });
    const other = await links.recordRefund(SCOPE, id, {
      outcome: "succeeded",
      paymentReference: "pi_other",
      reference: "re_x",
    });
    expect(other._unsafeUnwrap().changed).toBe(false);
    const pending = (
      await links.recordRefund(SCOPE, id, { outcome: "pending", paymentReference: "pi_1", reference: "re_1" })
    )._unsafeUnwrap();
    expect(pending.payment.providerState).toMatchObject({ refund: "pending", refundReference: "re_1" });
    const done = (
      await links.recordRefund(SCOPE, id, {
        outcome: "succeeded",
        paymentReference: "pi_1",
        reference: "re_1",
      })
    )._unsafeUnwrap();
    expect(done.payment.providerState?.refund).toBe("succeeded");
    const refusedLater = await links.recordRefund(SCOPE, id, {
      outcome: "refused",
      paymentReference: "pi_1",
      detail: "x",
    });
    expect(refusedLater._unsafeUnwrap().changed).toBe(false);
    const types = await eventTypes(store);
    expect(types.filter((type) => type === "payment_link.refunded")).toHaveLength(2);
    expect(types).not.toContain("payment_link.refund_refused");
  });

  test("records on a payment without a provider object are invalid_request; unknown ids not_found", async () => {
    const { links, clock } = setup();
    const payment = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const stop = await links.recordProviderStop(SCOPE, payment.id, { outcome: "confirmed" });
    expect(stop._unsafeUnwrapErr().code).toBe("invalid_request");
    const missing = await links.recordRefund(SCOPE, "pay_missing", {
      outcome: "refused",
      paymentReference: "pi_1",
      detail: "x",
    });
    expect(missing._unsafeUnwrapErr().code).toBe("not_found");
    const otherScope = await links.recordProviderStop({ accountId: "acct_2", livemode: false }, payment.id, {
      outcome: "confirmed",
    });
    expect(otherScope._unsafeUnwrapErr().code).toBe("not_found");
  });
});
