import type { Payment } from "@paylink/core";
import { samplePayment } from "@paylink/testing";
import { afterEach, describe, expect, test } from "vitest";
import { classify } from "../src/errors.js";
import { createStripeGateway } from "../src/index.js";
import type { Outage } from "./fake-stripe.js";
import { CALL_TIMEOUT_MS, type StripeHarness, stripeHarness, WEBHOOK_SECRET } from "./harness.js";

let harness: StripeHarness;
afterEach(() => harness?.close());

/** A harness with one open link and one paid link (its refund request ready). */
async function world() {
  harness = await stripeHarness();
  const create = async (payment: Payment) => {
    const created = await harness.gateway.createLink(payment);
    if (created.outcome !== "created") throw new Error(JSON.stringify(created));
    return created.reference;
  };
  const open = await create(samplePayment());
  const sold = samplePayment();
  harness.fake.pay(await create(sold));
  const intent = [...harness.fake.intents.values()][0]!;
  const refund = {
    paymentReference: intent.id,
    amount: sold.amountTotal,
    currency: sold.currency,
    idempotencyKey: `refund_${intent.id}`,
    paylinkId: sold.id,
  };
  return { open, refund };
}

const OUTAGES: [Outage, RegExp, number | undefined][] = [
  ["refused", /connection failed|timeout/, undefined],
  ["500", /HTTP 500/, undefined],
  ["429", /HTTP 429/, 2000],
  ["hang", /timeout/, undefined],
];

describe("outages: every call answers retry_later within the time budget, and works after restore", () => {
  for (const [kind, detail, retryAfterMs] of OUTAGES) {
    test(`${kind}`, async () => {
      const { open, refund } = await world();
      harness.outage(kind);
      const started = Date.now();
      const answers = await Promise.all([
        harness.gateway.createLink(samplePayment()),
        harness.gateway.stopLink(open),
        harness.gateway.refund(refund),
      ]);
      const elapsed = Date.now() - started;
      for (const answer of answers) {
        expect(answer).toMatchObject({ outcome: "retry_later", detail: expect.stringMatching(detail) });
        expect((answer as { retryAfterMs?: number }).retryAfterMs).toBe(retryAfterMs);
      }
      expect(elapsed).toBeLessThan(CALL_TIMEOUT_MS + 400);
      expect(harness.fake.links.get(open)?.active, "nothing changed during the outage").toBe(true);

      harness.restore();
      expect(await harness.gateway.stopLink(open)).toEqual({ outcome: "stopped" });
      expect(await harness.gateway.refund(refund)).toMatchObject({ outcome: "succeeded" });
    });
  }

  test("a stop whose budget runs out between calls answers retry_later, and the next stop finishes the job", async () => {
    harness = await stripeHarness();
    const created = await harness.gateway.createLink(samplePayment());
    if (created.outcome !== "created") throw new Error(JSON.stringify(created));
    const session = harness.fake.visit(created.reference);
    // Stripe hangs from the session list on: the link is deactivated, its session not yet expired.
    harness.fake.beforeRequest = (request) => {
      if (request.path === "/v1/checkout/sessions") harness.outage("hang");
    };
    expect(await harness.gateway.stopLink(created.reference)).toMatchObject({ outcome: "retry_later" });
    expect(harness.fake.links.get(created.reference)?.active).toBe(false);
    expect(session.status).toBe("open");

    harness.fake.beforeRequest = undefined;
    harness.restore();
    expect(await harness.gateway.stopLink(created.reference)).toEqual({ outcome: "stopped" });
    expect(session.status).toBe("expired");
  });
});

describe("refusals", () => {
  test("a key Stripe rejects (401): create and refund are refused; a stop is retried, never given up", async () => {
    harness = await stripeHarness();
    const created = await harness.gateway.createLink(samplePayment());
    if (created.outcome !== "created") throw new Error(JSON.stringify(created));
    const Stripe = (await import("stripe")).default;
    const revoked = new Stripe("sk_test_revoked", {
      host: "127.0.0.1",
      port: harness.fake.port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    const gateway = createStripeGateway({ stripe: revoked, webhookSecret: WEBHOOK_SECRET });
    expect(await gateway.createLink(samplePayment())).toMatchObject({
      outcome: "refused",
      reason: expect.stringContaining("HTTP 401"),
    });
    expect(await gateway.stopLink(created.reference)).toMatchObject({
      outcome: "retry_later",
      detail: expect.stringContaining("HTTP 401"),
    });
  });

  test("what is retried: 409, Stripe-Should-Retry, an unreadable answer, Retry-After as a date", () => {
    const error = (fields: object) => Object.assign(new Error("x"), { type: "StripeAPIError", ...fields });
    expect(classify(error({ statusCode: 409 }))).toMatchObject({ outcome: "retry_later" });
    const shouldRetry = error({ statusCode: 400, headers: { "stripe-should-retry": "true" } });
    expect(classify(shouldRetry)).toMatchObject({ outcome: "retry_later" });
    expect(classify(error({ message: "Invalid JSON received from the Stripe API" }))).toMatchObject({
      outcome: "retry_later",
    });
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const dated = classify(error({ statusCode: 503, headers: { "retry-after": inTenSeconds } }));
    expect(dated).toMatchObject({ outcome: "retry_later" });
    expect((dated as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(8_000);
    const invalid = error({
      statusCode: 400,
      code: "parameter_invalid_integer",
      type: "StripeInvalidRequestError",
    });
    expect(classify(invalid)).toEqual({
      outcome: "refused",
      reason: "HTTP 400 parameter_invalid_integer: x",
    });
  });
});
