import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { REFUND_REFUSAL } from "../src/index.js";
import { type DnaHarness, makeDnaHarness } from "./harness.js";
import { aLink } from "./payments.js";

let h: DnaHarness;
beforeEach(async () => {
  h = await makeDnaHarness();
});
afterEach(async () => {
  await h.close();
});

async function created(payment = aLink()) {
  const result = await h.gateway.createLink(payment);
  if (result.outcome !== "created") throw new Error(`not created: ${JSON.stringify(result)}`);
  return { payment, ...result };
}

describe("createLink", () => {
  test("creates a DNA link and answers its id and URL; the payment id travels as invoiceId and metadata", async () => {
    const { payment, reference, url } = await created();
    const link = h.fake.links.get(reference)!;
    expect(url).toBe(link.url);
    expect(link.invoiceId).toBe(payment.id);
    expect(JSON.parse(link.merchantCustomData!)).toEqual({ paylink_id: payment.id });
    expect(link).toMatchObject({ amount: 19.99, currency: "GBP", terminalId: h.fake.terminalId });
    expect(link.expirationDate).toBe(payment.expiresAt);
  });

  test.each([
    [1999, "GBP", "19.99"],
    [500, "JPY", "500"],
    [5, "KWD", "0.005"],
    [100, "EUR", "1.00"],
  ])("%i minor units of %s are sent as the decimal %s", async (amountTotal, currency, text) => {
    await created(aLink({ amountTotal, amountSubtotal: amountTotal, currency }));
    const post = h.fake.requests.find((r) => r.method === "POST" && r.path === "/v1/payment-links")!;
    expect(post.body).toContain(`"amount":${text},`);
  });

  test("sends the callback URLs DNA posts results to", async () => {
    await created();
    const post = h.fake.requests.find((r) => r.method === "POST" && r.path === "/v1/payment-links")!;
    expect(JSON.parse(post.body).paymentSettings).toEqual({
      callbackUrl: "https://merchant.example/webhooks/dna",
      failureCallbackUrl: "https://merchant.example/webhooks/dna",
    });
  });

  test("a create retried for the same payment finds the link it made instead of making a second", async () => {
    const payment = aLink();
    const first = await created(payment);
    const second = await h.gateway.createLink(payment);
    expect(second).toEqual({ outcome: "created", reference: first.reference, url: first.url });
    expect(h.fake.links.size).toBe(1);
  });

  test("a charge, or a link without expiry, is refused before any call", async () => {
    const charge = await h.gateway.createLink(aLink({ kind: "charge", expiresAt: null }));
    expect(charge).toEqual({ outcome: "refused", reason: "DNA payment links serve links, not charges" });
    const noExpiry = await h.gateway.createLink(aLink({ expiresAt: null }));
    expect(noExpiry).toEqual({ outcome: "refused", reason: "a DNA payment link needs an expiry date" });
    expect(h.fake.requests).toHaveLength(0);
  });

  test("a terminal DNA does not know is refused with DNA's 422 code and message", async () => {
    await h.close();
    h = await makeDnaHarness({ terminalId: "not-my-terminal", createLookbackMs: 0 });
    expect(await h.gateway.createLink(aLink())).toEqual({
      outcome: "refused",
      reason: "DNA HTTP 422: 201 Invalid terminal ID",
    });
  });
});

describe("stopLink", () => {
  test("cancels an active link (stopped), then answers already_stopped", async () => {
    const { reference } = await created();
    expect(await h.gateway.stopLink(reference)).toEqual({ outcome: "stopped" });
    expect(h.fake.links.get(reference)!.status).toBe("cancelled");
    expect(await h.gateway.stopLink(reference)).toEqual({ outcome: "already_stopped" });
    const cancels = h.fake.requests.filter((r) => r.path === `/v1/payment-links/${reference}/cancellation`);
    expect(cancels).toHaveLength(2);
  });

  test("a link that was viewed or attempted is still cancelled", async () => {
    const { reference } = await created();
    await h.fail(reference);
    expect(h.fake.links.get(reference)!.status).toBe("attempted");
    expect(await h.gateway.stopLink(reference)).toEqual({ outcome: "stopped" });
  });

  test("an expired link is already_stopped", async () => {
    const { reference } = await created();
    h.fake.expire(reference);
    expect(await h.gateway.stopLink(reference)).toEqual({ outcome: "already_stopped" });
  });

  test("a paid link is already_paid, named by its invoiceId as the callback names it, in minor units", async () => {
    const { payment, reference } = await created();
    await h.pay(reference);
    expect(await h.gateway.stopLink(reference)).toEqual({
      outcome: "already_paid",
      paymentReference: payment.id,
      amount: 1999,
      currency: "GBP",
    });
  });

  test("a cancellation DNA refuses while the link stays active is retried, never reported stopped", async () => {
    const { reference } = await created();
    h.fake.refuseCancellations(true);
    const refused = await h.gateway.stopLink(reference);
    expect(refused).toMatchObject({
      outcome: "retry_later",
      detail: expect.stringContaining("status active"),
    });
    expect(h.fake.links.get(reference)!.status).toBe("active");
    h.fake.refuseCancellations(false);
    expect(await h.gateway.stopLink(reference)).toEqual({ outcome: "stopped" });
  });

  test("a link DNA does not know is never reported stopped: refused, with DNA's reason, for someone to look at", async () => {
    const result = await h.gateway.stopLink("nosuchlnk");
    expect(result.outcome).toBe("refused");
    expect(result).toMatchObject({ reason: expect.stringContaining("275 Invalid payment link ID") });
  });
});

describe("getLink", () => {
  test("reads a link in DNA's vocabulary", async () => {
    const { reference } = await created();
    const read = await h.gateway.getLink(reference);
    expect(read).toMatchObject({
      outcome: "found",
      link: { id: reference, status: "active", amount: 19.99 },
    });
  });
});

describe("refund", () => {
  const request = (paymentReference: string) => ({
    paymentReference,
    amount: 1999,
    currency: "GBP",
    idempotencyKey: `late:${paymentReference}`,
    paylinkId: "pay_1",
  });

  test("is refused with its reason, and DNA is not called: its refund API has no idempotency key", async () => {
    const { reference } = await created();
    await h.pay(reference);
    const result = await h.gateway.refund(request(h.fake.transactionOf(reference)));
    expect(result).toEqual({ outcome: "refused", reason: REFUND_REFUSAL });
    expect(h.fake.requests.some((r) => r.path === "/transaction/operation/refund")).toBe(false);
  });
});
