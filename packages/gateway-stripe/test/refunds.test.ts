import type { RefundRequest } from "@paylink/core";
import { samplePayment } from "@paylink/testing";
import { afterEach, expect, test } from "vitest";
import { type StripeHarness, stripeHarness } from "./harness.js";

let harness: StripeHarness;
afterEach(() => harness?.close());

/** A paid link: the refund request of all of it, under `key`. */
async function paidLink(h: StripeHarness, key = "refund_key_1"): Promise<RefundRequest> {
  const payment = samplePayment({ amountTotal: 1200, currency: "GBP" });
  const created = await h.gateway.createLink(payment);
  if (created.outcome !== "created") throw new Error(JSON.stringify(created));
  h.fake.pay(created.reference);
  const intent = [...h.fake.intents.values()].at(-1)!;
  return {
    paymentReference: intent.id,
    amount: 1200,
    currency: "GBP",
    idempotencyKey: key,
    paylinkId: payment.id,
  };
}

test("refund twice with one idempotency key: one refund at Stripe, the same reference both times", async () => {
  harness = await stripeHarness();
  const request = await paidLink(harness);
  const first = await harness.gateway.refund(request);
  const second = await harness.gateway.refund(request);

  expect(first).toMatchObject({ outcome: "succeeded", reference: expect.stringMatching(/^re_/) });
  expect(second).toEqual(first);
  const refunds = [...harness.fake.refunds.values()];
  expect(refunds).toHaveLength(1);
  expect(refunds[0]).toMatchObject({
    amount: 1200,
    payment_intent: request.paymentReference,
    metadata: { paylink_id: request.paylinkId },
  });
  const keys = harness.fake.requests.filter((r) => r.path === "/v1/refunds").map((r) => r.idempotencyKey);
  expect(keys).toEqual(["refund_key_1", "refund_key_1"]);
});

test("one key with another amount is Stripe's idempotency error: refused, and still one refund", async () => {
  harness = await stripeHarness();
  const request = await paidLink(harness);
  await harness.gateway.refund(request);
  const other = await harness.gateway.refund({ ...request, amount: 500 });
  expect(other).toMatchObject({ outcome: "refused", reason: expect.stringContaining("idempotent requests") });
  expect(harness.fake.refunds.size).toBe(1);
});

test("a second key refunds what is left; more than is left is refused with Stripe's code", async () => {
  harness = await stripeHarness();
  const request = await paidLink(harness);
  expect(await harness.gateway.refund({ ...request, amount: 200 })).toMatchObject({ outcome: "succeeded" });
  const tooMuch = await harness.gateway.refund({ ...request, idempotencyKey: "refund_key_2" });
  expect(tooMuch).toMatchObject({ outcome: "refused", reason: expect.stringContaining("amount_too_large") });
  const rest = await harness.gateway.refund({ ...request, amount: 1000, idempotencyKey: "refund_key_3" });
  expect(rest).toMatchObject({ outcome: "succeeded" });
  expect([...harness.fake.refunds.values()].map((r) => r.amount)).toEqual([200, 1000]);
});

test("an unknown PaymentIntent is refused (retrying will not help)", async () => {
  harness = await stripeHarness();
  const request = await paidLink(harness);
  const answer = await harness.gateway.refund({ ...request, paymentReference: "pi_unknown" });
  expect(answer).toMatchObject({ outcome: "refused", reason: expect.stringContaining("resource_missing") });
});
