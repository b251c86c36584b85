import type { Payment } from "@paylink/core";
import { samplePayment } from "@paylink/testing";
import { afterEach, describe, expect, test } from "vitest";
import { type StripeHarness, stripeHarness } from "./harness.js";

let harness: StripeHarness;
afterEach(() => harness?.close());

async function created(h: StripeHarness, payment: Payment = samplePayment()) {
  const result = await h.gateway.createLink(payment);
  if (result.outcome !== "created") throw new Error(`createLink: ${JSON.stringify(result)}`);
  return { payment, reference: result.reference, url: result.url };
}

describe("createLink: one Stripe Payment Link per Paylink link", () => {
  test("answers the Payment Link's id and url; the link, its sessions and their PaymentIntent carry paylink_id", async () => {
    harness = await stripeHarness({ successUrl: "https://shop.example/thanks" });
    const payment = samplePayment({ amountTotal: 1200, currency: "GBP", description: "Two coffees" });
    const { reference, url } = await created(harness, payment);

    const link = harness.fake.links.get(reference)!;
    expect(reference).toMatch(/^plink_/);
    expect(url).toBe(link.url);
    expect(link.metadata).toEqual({ paylink_id: payment.id });
    expect(link.payment_intent_data?.metadata).toEqual({ paylink_id: payment.id });
    expect(link.restrictions?.completed_sessions.limit).toBe(1);
    expect(link).toMatchObject({ unit_amount: 1200, currency: "gbp", product_name: "Two coffees" });
    expect(link.after_completion).toEqual({
      type: "redirect",
      redirect: { url: "https://shop.example/thanks" },
    });

    harness.fake.pay(reference);
    const [session] = [...harness.fake.sessions.values()];
    expect(session?.metadata).toEqual({ paylink_id: payment.id });
    expect(harness.fake.intents.get(session!.payment_intent!)?.metadata).toEqual({ paylink_id: payment.id });
  });

  test("a retried create (same payment) finds the same Payment Link: the payment id is the idempotency key", async () => {
    harness = await stripeHarness();
    const payment = samplePayment();
    const first = await created(harness, payment);
    const again = await created(harness, payment);
    expect(again.reference).toBe(first.reference);
    expect(harness.fake.links.size).toBe(1);
    const keys = harness.fake.requests
      .filter((r) => r.path === "/v1/payment_links")
      .map((r) => r.idempotencyKey);
    expect(keys).toEqual([`paylink_link_${payment.id}`, `paylink_link_${payment.id}`]);
  });

  test("a link Stripe refuses (no amount to collect) is refused with Stripe's code", async () => {
    harness = await stripeHarness();
    const result = await harness.gateway.createLink(samplePayment({ amountTotal: 0 }));
    expect(result).toMatchObject({
      outcome: "refused",
      reason: expect.stringContaining("parameter_invalid_integer"),
    });
  });
});

describe("stopLink: deactivate the Payment Link, then expire its open Checkout Sessions", () => {
  test("an open link is stopped: deactivated, its open sessions expired; then already_stopped", async () => {
    harness = await stripeHarness();
    const { reference } = await created(harness);
    const sessions = [harness.fake.visit(reference), harness.fake.visit(reference)];

    expect(await harness.gateway.stopLink(reference)).toEqual({ outcome: "stopped" });
    expect(harness.fake.links.get(reference)?.active).toBe(false);
    expect(sessions.map((s) => s.status)).toEqual(["expired", "expired"]);
    expect(() => harness.fake.visit(reference)).toThrow(/deactivated/);
    expect(await harness.gateway.stopLink(reference)).toEqual({ outcome: "already_stopped" });
  });

  test("deactivation comes before the session list, so no session can open in between", async () => {
    harness = await stripeHarness();
    const { reference } = await created(harness);
    await harness.gateway.stopLink(reference);
    const calls = harness.fake.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls.indexOf(`POST /v1/payment_links/${reference}`)).toBeLessThan(
      calls.indexOf("GET /v1/checkout/sessions"),
    );
  });

  test("paid before the stop: already_paid with the PaymentIntent, amount and currency; other sessions expired", async () => {
    harness = await stripeHarness();
    const { reference } = await created(harness, samplePayment({ amountTotal: 1500, currency: "JPY" }));
    const abandoned = harness.fake.visit(reference);
    harness.fake.pay(harness.fake.visit(reference).id);
    const intent = [...harness.fake.intents.values()][0]!;

    for (const attempt of [1, 2]) {
      const answer = await harness.gateway.stopLink(reference);
      expect(answer, `stop ${attempt}`).toEqual({
        outcome: "already_paid",
        paymentReference: intent.id,
        amount: 1500,
        currency: "JPY",
      });
    }
    expect(abandoned.status).toBe("expired");
  });

  test("a payment racing the stop (the session completes as it is expired) is already_paid", async () => {
    harness = await stripeHarness();
    const { reference } = await created(harness);
    const session = harness.fake.visit(reference);
    harness.fake.beforeRequest = (request) => {
      if (request.path === `/v1/checkout/sessions/${session.id}/expire`) harness.fake.pay(session.id);
    };
    const answer = await harness.gateway.stopLink(reference);
    expect(answer).toMatchObject({ outcome: "already_paid", paymentReference: session.payment_intent });
    expect(session.payment_intent).toMatch(/^pi_/);
  });

  test('"Only Checkout Sessions with a status in ["open"] can be expired" on an expired session is no payment', async () => {
    harness = await stripeHarness();
    const { reference } = await created(harness);
    const session = harness.fake.visit(reference);
    // A stop that deactivated the link, then crashed before the expiry; the session then times out
    // just as the retried stop expires it.
    harness.fake.links.get(reference)!.active = false;
    harness.fake.beforeRequest = (request) => {
      if (request.path.endsWith("/expire")) harness.fake.expireSession(session.id);
    };
    expect(await harness.gateway.stopLink(reference)).toEqual({ outcome: "already_stopped" });
    const refused = harness.fake.requests.filter((r) => r.path.endsWith("/expire"));
    expect(refused).toHaveLength(1); // Stripe said "not open"; the gateway read the session instead
  });

  test("a delayed payment (session complete, money not yet settled) is already_paid: the link can no longer be stopped", async () => {
    harness = await stripeHarness();
    const { reference } = await created(harness);
    harness.fake.payDelayed(reference);
    expect(await harness.gateway.stopLink(reference)).toMatchObject({ outcome: "already_paid" });
  });

  test("every page of sessions is read: 120 open sessions are all expired", async () => {
    harness = await stripeHarness({ timeoutMs: 10_000 });
    const { reference } = await created(harness);
    const sessions = Array.from({ length: 120 }, () => harness.fake.visit(reference));
    expect(await harness.gateway.stopLink(reference)).toEqual({ outcome: "stopped" });
    expect(sessions.filter((s) => s.status !== "expired")).toEqual([]);
  });

  test("a reference Stripe does not know is refused (for someone to look at), not retried forever", async () => {
    harness = await stripeHarness();
    const answer = await harness.gateway.stopLink("plink_unknown");
    expect(answer).toMatchObject({
      outcome: "refused",
      reason: expect.stringContaining("resource_missing"),
    });
  });
});
