import { samplePayment } from "@paylink/testing";
import { afterEach, describe, expect, test } from "vitest";
import type { FakeSession } from "./fake-stripe-objects.js";
import { type StripeHarness, stripeHarness } from "./harness.js";

let harness: StripeHarness;
afterEach(() => harness?.close());

/** A fresh harness with one created link (JPY 1500) and a session the customer opened on it. */
async function opened() {
  harness = await stripeHarness();
  const payment = samplePayment({ amountTotal: 1500, currency: "JPY" });
  const created = await harness.gateway.createLink(payment);
  if (created.outcome !== "created") throw new Error(JSON.stringify(created));
  const session = harness.fake.visit(created.reference);
  return { payment, reference: created.reference, session };
}

const parse = (webhook: { rawBody: string; headers: Record<string, string> }) =>
  harness.gateway.parseWebhook(webhook.rawBody, webhook.headers);
const eventIdOf = (rawBody: string) => (JSON.parse(rawBody) as { id: string }).id;

describe("the mapping of Stripe's events", () => {
  test("checkout.session.completed, paid → PAYMENT_SUCCEEDED with the PaymentIntent, amount and currency", async () => {
    const { payment, session } = await opened();
    const webhook = harness.fake.pay(session.id);
    expect(await parse(webhook)).toEqual({
      outcome: "verified",
      eventId: eventIdOf(webhook.rawBody),
      eventType: "checkout.session.completed",
      events: [
        {
          type: "PAYMENT_SUCCEEDED",
          paylinkId: payment.id,
          paymentReference: session.payment_intent,
          amount: 1500,
          currency: "JPY",
        },
      ],
    });
  });

  test("a delayed method: completed unpaid → nothing yet; async_payment_succeeded → PAYMENT_SUCCEEDED", async () => {
    const { payment, session } = await opened();
    const completed = await parse(harness.fake.payDelayed(session.id));
    expect(completed).toMatchObject({
      outcome: "verified",
      eventType: "checkout.session.completed",
      events: [],
    });
    const settled = await parse(harness.fake.settle(session.id, true));
    expect(settled).toMatchObject({
      outcome: "verified",
      eventType: "checkout.session.async_payment_succeeded",
      events: [
        { type: "PAYMENT_SUCCEEDED", paylinkId: payment.id, paymentReference: session.payment_intent },
      ],
    });
  });

  test("checkout.session.async_payment_failed → START_PAYMENT then PAYMENT_FAILED (Stripe never reports the start)", async () => {
    const { payment, session } = await opened();
    harness.fake.payDelayed(session.id);
    expect(await parse(harness.fake.settle(session.id, false))).toMatchObject({
      outcome: "verified",
      eventType: "checkout.session.async_payment_failed",
      events: [
        { type: "START_PAYMENT", paylinkId: payment.id, paymentReference: session.payment_intent },
        { type: "PAYMENT_FAILED", paylinkId: payment.id, paymentReference: session.payment_intent },
      ],
    });
  });

  test("every other event is verified and ignored: an expired session, a PaymentIntent event, another account's link", async () => {
    const { session } = await opened();
    const foreign: FakeSession = { ...session, id: "cs_test_foreign", metadata: { order: "42" } };
    const webhooks = [
      harness.fake.expireSession(session.id),
      harness.fake.webhook("payment_intent.succeeded", {
        id: "pi_1",
        object: "payment_intent",
        metadata: {},
      }),
      harness.fake.webhook("checkout.session.completed", {
        ...foreign,
        status: "complete",
        payment_status: "paid",
      }),
    ];
    for (const webhook of webhooks) {
      const { type } = JSON.parse(webhook.rawBody) as { type: string };
      expect(await parse(webhook), type).toEqual({
        outcome: "verified",
        eventId: eventIdOf(webhook.rawBody),
        eventType: type,
        events: [],
      });
    }
  });
});

describe("signatures: constructEvent with a tolerance of 300 s", () => {
  const completed = (session: FakeSession, options: { secret?: string; timestamp?: number } = {}) =>
    harness.fake.webhook("checkout.session.completed", { ...session, payment_status: "paid" }, options);
  const secondsAgo = (seconds: number) => Math.floor(Date.now() / 1000) - seconds;

  test("a missing or empty stripe-signature header is missing_signature", async () => {
    const { session } = await opened();
    const { rawBody, headers } = completed(session);
    const { "stripe-signature": _, ...unsigned } = headers;
    expect(await harness.gateway.parseWebhook(rawBody, unsigned)).toEqual({
      outcome: "rejected",
      reason: "missing_signature",
    });
    expect(await harness.gateway.parseWebhook(rawBody, { ...headers, "stripe-signature": "" })).toEqual({
      outcome: "rejected",
      reason: "missing_signature",
    });
  });

  test("another secret, a garbled header, or a body altered after signing is bad_signature", async () => {
    const { session, payment } = await opened();
    const good = completed(session);
    const cases = [
      completed(session, { secret: "whsec_someone_else" }),
      { rawBody: good.rawBody, headers: { "stripe-signature": "t=abc,v1=def" } },
      { rawBody: good.rawBody.replace(payment.id, "pay_someone_else"), headers: good.headers },
      { rawBody: `${good.rawBody}\n`, headers: good.headers },
      // Too old AND wrongly signed: the signature is the fault that counts.
      completed(session, { secret: "whsec_someone_else", timestamp: secondsAgo(1000) }),
    ];
    for (const [index, webhook] of cases.entries()) {
      expect(await parse(webhook), `case ${index}`).toEqual({ outcome: "rejected", reason: "bad_signature" });
    }
    expect(await parse(good)).toMatchObject({ outcome: "verified" });
  });

  test("a genuine signature older than 300 s is stale; 290 s old is still accepted", async () => {
    const { session } = await opened();
    expect(await parse(completed(session, { timestamp: secondsAgo(301) }))).toEqual({
      outcome: "rejected",
      reason: "stale",
    });
    expect(await parse(completed(session, { timestamp: secondsAgo(290) }))).toMatchObject({
      outcome: "verified",
    });
  });

  test("a correctly signed body that is not a Stripe event is malformed", async () => {
    await opened();
    const signed = (rawBody: string) => {
      const header = harness.fake.client().webhooks.generateTestHeaderString({
        payload: rawBody,
        secret: harness.fake.webhookSecret,
      });
      return { rawBody, headers: { "stripe-signature": header } };
    };
    expect(await parse(signed("not json"))).toEqual({ outcome: "rejected", reason: "malformed" });
    expect(await parse(signed('{"hello":"world"}'))).toEqual({ outcome: "rejected", reason: "malformed" });
    expect(await parse({ ...signed("{}"), rawBody: "" })).toEqual({
      outcome: "rejected",
      reason: "malformed",
    });
  });
});
