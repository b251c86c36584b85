import assert from "node:assert/strict";
import type { Payment } from "@paylink/core";
import {
  answer,
  expectOutcome,
  type GatewayHarness,
  type GatewaySuite,
  newLink,
  paid,
} from "./gateway-kit.js";

/** Creates the provider object of a new link in `currency`, asserting the law of `createLink`. */
export async function createdLink(
  harness: GatewayHarness,
  suite: GatewaySuite,
  currency = "GBP",
): Promise<{ payment: Payment; reference: string; url: string }> {
  const payment = await newLink(harness.gateway.provider, currency);
  const law = `law: createLink of a new ${currency} link answers created`;
  const result = await answer(
    law,
    () => harness.gateway.createLink(payment),
    suite.callTimeoutMs + suite.marginMs,
  );
  const { reference, url } = expectOutcome(result, "created", law);
  return { payment, reference, url };
}

/** `createLink` and `stopLink`: references, URLs, and the answers of a stop. */
export function linkTests(suite: GatewaySuite): void {
  const { it } = suite;
  const deadline = suite.callTimeoutMs + suite.marginMs;

  it("createLink: answers created, with a reference and an http(s) url, one object per link", async (harness) => {
    const references = new Set<string>();
    for (const currency of suite.currencies) {
      const { reference, url } = await createdLink(harness, suite, currency);
      assert.equal(typeof reference, "string", "law: the reference is a string");
      assert.ok(reference.length > 0, "law: the reference is not empty");
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        assert.fail(`law: the url is an absolute URL (got ${JSON.stringify(url)})`);
      }
      assert.ok(
        parsed.protocol === "https:" || parsed.protocol === "http:",
        `law: the url is http(s) (got ${url})`,
      );
      references.add(reference);
    }
    const another = await createdLink(harness, suite);
    references.add(another.reference);
    assert.equal(
      references.size,
      suite.currencies.length + 1,
      "law: each link gets a provider object of its own (distinct references)",
    );
  });

  it("stopLink: a fresh link is stopped, and a second stop is already_stopped", async (harness) => {
    const { reference } = await createdLink(harness, suite);
    const first = await answer("law: stopLink answers", () => harness.gateway.stopLink(reference), deadline);
    expectOutcome(first, "stopped", "law: stopping a fresh, unpaid link answers stopped");
    for (const attempt of ["second", "third"])
      expectOutcome(
        await answer("law: stopLink answers", () => harness.gateway.stopLink(reference), deadline),
        "already_stopped",
        `law: a ${attempt} stop of a stopped link answers already_stopped`,
      );
  });

  it("stopLink: a link paid before the stop is already_paid, with the webhook's paymentReference", async (harness) => {
    for (const currency of suite.currencies) {
      const { payment, reference } = await createdLink(harness, suite, currency);
      const other = await createdLink(harness, suite, currency);
      const webhook = await paid(harness, reference, "law: an open link can be paid");
      const parsed = await answer(
        "law: parseWebhook answers",
        () => harness.gateway.parseWebhook(webhook.rawBody, webhook.headers),
        deadline,
      );
      const verified = expectOutcome(parsed, "verified", "law: the payment's webhook is verified");
      const success = verified.events.find((event) => event.type === "PAYMENT_SUCCEEDED");
      assert.ok(
        success?.paymentReference,
        "law: the payment's webhook reports a success with its paymentReference",
      );

      for (const attempt of ["first", "second"]) {
        const stop = await answer(
          "law: stopLink answers",
          () => harness.gateway.stopLink(reference),
          deadline,
        );
        const late = expectOutcome(
          stop,
          "already_paid",
          `law: a ${attempt} stop of a paid link answers already_paid (a late payment, never "fine")`,
        );
        assert.ok(
          typeof late.paymentReference === "string" && late.paymentReference.length > 0,
          "law: already_paid names the provider's payment (paymentReference), to refund",
        );
        assert.equal(
          late.paymentReference,
          success?.paymentReference,
          "law: already_paid names the same provider payment as the webhook (one refund key on both paths)",
        );
        if (late.amount !== undefined)
          assert.equal(
            late.amount,
            payment.amountTotal,
            `law: already_paid's amount is in minor units (${currency})`,
          );
        if (late.currency !== undefined)
          assert.equal(late.currency, payment.currency, "law: already_paid's currency is the payment's");
      }
      expectOutcome(
        await answer("law: stopLink answers", () => harness.gateway.stopLink(other.reference), deadline),
        "stopped",
        "law: a payment of one link does not make another link already_paid",
      );
    }
  });

  it("stopLink: a stopped link takes no money (the customer cannot pay it, or no success is reported)", async (harness) => {
    const { payment, reference } = await createdLink(harness, suite);
    expectOutcome(
      await answer("law: stopLink answers", () => harness.gateway.stopLink(reference), deadline),
      "stopped",
      "law: stopping a fresh, unpaid link answers stopped",
    );
    let webhook: Awaited<ReturnType<GatewayHarness["pay"]>> | undefined;
    try {
      webhook = await harness.pay(reference);
    } catch {
      // The provider refused the payment: what a stopped object must do.
    }
    if (webhook !== undefined) {
      const parsed = await answer(
        "law: parseWebhook answers",
        () => harness.gateway.parseWebhook(webhook.rawBody, webhook.headers),
        deadline,
      );
      if (parsed.outcome === "verified")
        assert.deepEqual(
          parsed.events.filter((e) => e.type === "PAYMENT_SUCCEEDED" && e.paylinkId === payment.id),
          [],
          "law: no payment on a stopped link is reported as succeeded",
        );
    }
    expectOutcome(
      await answer("law: stopLink answers", () => harness.gateway.stopLink(reference), deadline),
      "already_stopped",
      "law: after a payment attempt on a stopped link, a stop still answers already_stopped (nothing was paid)",
    );
  });
}
