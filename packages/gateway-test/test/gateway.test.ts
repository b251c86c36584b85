import { PAYLINK_ID_METADATA_KEY, type Payment } from "@paylink/core";
import { fakeClock, samplePayment } from "@paylink/testing";
import { Webhook } from "standardwebhooks";
import { describe, expect, test } from "vitest";
import { createTestGateway, TEST_CARDS, type TestGateway } from "../src/index.js";

const T0 = new Date("2030-01-01T00:00:00.000Z");

/** A gateway over a fake clock at {@link T0}, and one open link on it. */
async function withLink(overrides: Partial<Payment> = {}) {
  const clock = fakeClock(T0);
  const gateway = createTestGateway({
    clock,
    timeoutMs: 100,
    urlFor: (reference, payment) => `http://127.0.0.1:3000/pay/${payment.id}?ref=${reference}`,
  });
  const payment = samplePayment(overrides);
  const created = await gateway.createLink(payment);
  if (created.outcome !== "created") throw new Error(`createLink answered ${JSON.stringify(created)}`);
  return { clock, gateway, payment, reference: created.reference, url: created.url };
}

/** The webhook of a customer's answer that must carry one. */
function webhookOf(answer: Awaited<ReturnType<TestGateway["pay"]>>) {
  if (!("webhook" in answer)) throw new Error(`no webhook: ${JSON.stringify(answer)}`);
  return answer.webhook;
}

describe("provider objects", () => {
  test("createLink keeps the payment id as paylink_id, the amount in minor units, and the page from urlFor", async () => {
    const { gateway, payment, reference, url } = await withLink({ amountTotal: 1234, currency: "JPY" });
    expect(reference).toMatch(/^tpl_/);
    expect(url).toBe(`http://127.0.0.1:3000/pay/${payment.id}?ref=${reference}`);
    expect(gateway.link(reference)).toMatchObject({
      status: "open",
      amount: 1234,
      currency: "JPY",
      metadata: { [PAYLINK_ID_METADATA_KEY]: payment.id },
      paymentReference: null,
      refunds: [],
    });
  });

  test("createLink again for the same payment answers the same object (the payment id is the idempotency key)", async () => {
    const { gateway, payment, reference } = await withLink();
    expect(await gateway.createLink(payment)).toMatchObject({ outcome: "created", reference });
    expect(await gateway.createLink({ ...payment, amountTotal: payment.amountTotal + 1 })).toMatchObject({
      outcome: "refused",
      reason: expect.stringContaining("idempotency_mismatch"),
    });
  });

  test("link() answers a copy: changing it changes nothing at the provider", async () => {
    const { gateway, reference } = await withLink();
    const copy = gateway.link(reference)!;
    (copy.metadata as Record<string, string>)[PAYLINK_ID_METADATA_KEY] = "pay_evil";
    (copy as { status: string }).status = "paid";
    expect(gateway.link(reference)).toMatchObject({
      status: "open",
      metadata: { paylink_id: expect.not.stringMatching("evil") },
    });
  });

  test("stopLink of an unknown reference is already_stopped: nothing there can take money", async () => {
    const { gateway } = await withLink();
    expect(await gateway.stopLink("tpl_unknown")).toEqual({ outcome: "already_stopped" });
  });
});

describe("the customer's side", () => {
  test("a declined card fails the attempt and leaves the link payable; a good card then pays it", async () => {
    const { gateway, payment, reference } = await withLink();
    const declined = await gateway.pay(reference, TEST_CARDS.declined);
    expect(declined.outcome).toBe("declined");
    expect(
      await gateway.parseWebhook(webhookOf(declined).rawBody, webhookOf(declined).headers),
    ).toMatchObject({
      outcome: "verified",
      eventType: "payment.failed",
      events: [
        { type: "START_PAYMENT", paylinkId: payment.id },
        { type: "PAYMENT_FAILED", paylinkId: payment.id },
      ],
    });
    expect(gateway.link(reference)?.status).toBe("open");
    const paid = await gateway.pay(reference, TEST_CARDS.succeeds);
    expect(paid).toMatchObject({ outcome: "paid", paymentReference: expect.stringMatching(/^tpi_/) });
    expect(gateway.link(reference)?.status).toBe("paid");
  });

  test("a link takes money once: paid, stopped or unknown links answer not_payable, and a bad card is invalid", async () => {
    const { gateway, reference } = await withLink();
    expect(await gateway.pay(reference, "4242")).toEqual({ outcome: "invalid_card" });
    await gateway.pay(reference);
    expect(await gateway.pay(reference)).toEqual({ outcome: "not_payable", reason: "paid" });
    expect(await gateway.fail(reference)).toEqual({ outcome: "not_payable", reason: "paid" });
    const other = await withLink();
    expect(await other.gateway.stopLink(other.reference)).toEqual({ outcome: "stopped" });
    expect(await other.gateway.pay(other.reference)).toEqual({ outcome: "not_payable", reason: "stopped" });
    expect(await other.gateway.pay("tpl_unknown")).toEqual({
      outcome: "not_payable",
      reason: "unknown_link",
    });
  });
});

describe("webhook signatures (Standard Webhooks)", () => {
  test("the standardwebhooks package verifies what the provider signs, and the gateway verifies what it signs", async () => {
    const { gateway, payment, reference } = await withLink();
    const { rawBody, headers } = webhookOf(await gateway.pay(reference));
    expect(Object.keys(headers).sort()).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
    expect(gateway.secret).toMatch(/^whsec_/);
    // The library checks the age against the real clock: sign and check at T0 through its own API instead.
    const library = new Webhook(gateway.secret);
    expect(library.sign(headers["webhook-id"]!, T0, rawBody)).toBe(headers["webhook-signature"]);

    const body = JSON.stringify({
      id: "tev_from_library",
      type: "payment.succeeded",
      created: T0.getTime() / 1_000,
      data: {
        link: reference,
        payment: "tpi_x",
        amount: 1200,
        currency: "GBP",
        metadata: { paylink_id: payment.id },
      },
    });
    const signed = {
      "webhook-id": "tev_from_library",
      "webhook-timestamp": String(T0.getTime() / 1_000),
      "webhook-signature": `v1,bm90IGl0 ${library.sign("tev_from_library", T0, body)}`,
    };
    expect(await gateway.parseWebhook(body, signed)).toMatchObject({
      outcome: "verified",
      eventId: "tev_from_library",
      events: [{ type: "PAYMENT_SUCCEEDED", paylinkId: payment.id, paymentReference: "tpi_x", amount: 1200 }],
    });
  });

  test("a webhook is fresh for 300 s either side of its timestamp, and stale after", async () => {
    const { clock, gateway, reference } = await withLink();
    const { rawBody, headers } = webhookOf(await gateway.pay(reference));
    for (const [offsetMs, outcome] of [
      [300_000, "verified"],
      [301_000, "rejected"],
      [-300_000, "verified"],
      [-301_000, "rejected"],
    ] as const) {
      clock.set(new Date(T0.getTime() + offsetMs));
      const parsed = await gateway.parseWebhook(rawBody, headers);
      expect(parsed.outcome, `${offsetMs} ms`).toBe(outcome);
      if (parsed.outcome === "rejected") expect(parsed.reason).toBe("stale");
    }
  });

  test("an unknown event type is verified and maps to nothing; a signed body that is not the provider's is malformed", async () => {
    const { gateway } = await withLink();
    const library = new Webhook(gateway.secret);
    const sign = (id: string, body: string) => ({
      "webhook-id": id,
      "webhook-timestamp": String(T0.getTime() / 1_000),
      "webhook-signature": library.sign(id, T0, body),
    });
    const data = { link: "tpl_x", amount: 1, currency: "GBP", metadata: { paylink_id: "pay_x" } };
    const unknown = JSON.stringify({ id: "tev_1", type: "link.viewed", created: 0, data });
    expect(await gateway.parseWebhook(unknown, sign("tev_1", unknown))).toEqual({
      outcome: "verified",
      eventId: "tev_1",
      eventType: "link.viewed",
      events: [],
    });
    for (const [id, body] of [
      ["tev_2", "not json"],
      ["tev_3", JSON.stringify({ id: "tev_other", type: "payment.succeeded", created: 0, data })],
      [
        "tev_4",
        JSON.stringify({
          id: "tev_4",
          type: "payment.succeeded",
          created: 0,
          data: { ...data, metadata: {} },
        }),
      ],
    ] as const)
      expect(await gateway.parseWebhook(body, sign(id, body)), body).toEqual({
        outcome: "rejected",
        reason: "malformed",
      });
    expect(
      await gateway.parseWebhook(unknown, { ...sign("tev_1", unknown), "webhook-timestamp": "soon" }),
    ).toEqual({ outcome: "rejected", reason: "malformed" });
  });
});

describe("refunds", () => {
  test("partial refunds under two keys add up; more than was paid, another currency or a reused key is refused", async () => {
    const { gateway, payment, reference } = await withLink({ amountTotal: 1000 });
    const paid = await gateway.pay(reference);
    if (paid.outcome !== "paid") throw new Error("not paid");
    const request = {
      paymentReference: paid.paymentReference,
      amount: 600,
      currency: payment.currency,
      idempotencyKey: "k1",
      paylinkId: payment.id,
    };
    const first = await gateway.refund(request);
    expect(first).toMatchObject({ outcome: "succeeded", reference: expect.stringMatching(/^tre_/) });
    expect(await gateway.refund({ ...request, idempotencyKey: "k2", amount: 500 })).toMatchObject({
      outcome: "refused",
      reason: expect.stringContaining("amount_too_large"),
    });
    expect(
      await gateway.refund({ ...request, idempotencyKey: "k3", currency: "EUR", amount: 1 }),
    ).toMatchObject({
      outcome: "refused",
    });
    expect(await gateway.refund({ ...request, amount: 1 })).toMatchObject({
      outcome: "refused",
      reason: expect.stringContaining("idempotency_mismatch"),
    });
    const second = await gateway.refund({ ...request, idempotencyKey: "k4", amount: 400 });
    expect(second.outcome).toBe("succeeded");
    expect(
      gateway.link(reference)?.refunds.map((r) => [r.amount, r.metadata[PAYLINK_ID_METADATA_KEY]]),
    ).toEqual([
      [600, payment.id],
      [400, payment.id],
    ]);
  });
});

describe("outages", () => {
  test("a hang answers retry_later after the timeout, not before; 429 carries Retry-After; restore() ends it", async () => {
    const { gateway, reference } = await withLink();
    gateway.outage("hang");
    const started = performance.now();
    expect(await gateway.stopLink(reference)).toEqual({
      outcome: "retry_later",
      detail: "timeout after 100 ms",
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    gateway.outage("429");
    expect(await gateway.stopLink(reference)).toMatchObject({ outcome: "retry_later", retryAfterMs: 2_000 });
    expect(gateway.link(reference)?.status, "nothing reached the provider").toBe("open");
    gateway.restore();
    expect(await gateway.stopLink(reference)).toEqual({ outcome: "stopped" });
  });

  test("the customer's side and webhooks work during an outage (only the API the gateway calls is down)", async () => {
    const { gateway, reference } = await withLink();
    gateway.outage("500");
    const paid = await gateway.pay(reference);
    expect(paid.outcome).toBe("paid");
    expect((await gateway.parseWebhook(webhookOf(paid).rawBody, webhookOf(paid).headers)).outcome).toBe(
      "verified",
    );
  });
});
