import assert from "node:assert/strict";
import type { Payment, RefundRequest, RefundResult } from "@paylink/core";
import { answer, type GatewayHarness, type GatewaySuite, paid } from "./gateway-kit.js";
import { createdLink } from "./gateway-links.js";

/** Creates and pays a link; answers the payment and the provider's payment reference from its webhook. */
export async function paidLink(
  harness: GatewayHarness,
  suite: GatewaySuite,
  currency = "GBP",
): Promise<{ payment: Payment; reference: string; paymentReference: string }> {
  const { payment, reference } = await createdLink(harness, suite, currency);
  const webhook = await paid(harness, reference, "law: an open link can be paid");
  const parsed = await answer(
    "law: parseWebhook answers",
    () => harness.gateway.parseWebhook(webhook.rawBody, webhook.headers),
    suite.callTimeoutMs + suite.marginMs,
  );
  const success =
    parsed.outcome === "verified"
      ? parsed.events.find((event) => event.type === "PAYMENT_SUCCEEDED")
      : undefined;
  if (success?.paymentReference === undefined)
    assert.fail(
      `law: a payment's webhook is verified with its paymentReference (got ${JSON.stringify(parsed)})`,
    );
  return { payment, reference, paymentReference: success.paymentReference };
}

/** The full refund of `payment`, under the idempotency key `key`. */
export const refundOf = (payment: Payment, paymentReference: string, key: string): RefundRequest => ({
  paymentReference,
  amount: payment.amountTotal,
  currency: payment.currency,
  idempotencyKey: key,
  paylinkId: payment.id,
});

/** Asserts a refund was made (or is being settled) and answers its reference. */
export function refunded(result: RefundResult, law: string): string {
  if (result.outcome !== "succeeded" && result.outcome !== "pending")
    assert.fail(`${law} (got ${JSON.stringify(result)})`);
  assert.ok(
    typeof result.reference === "string" && result.reference.length > 0,
    `${law}: with the provider's refund reference`,
  );
  return result.reference;
}

let keys = 0;
/** A refund key no other test uses. */
export const refundKey = (paymentReference: string) =>
  `conformance_refund_${process.pid}_${++keys}_${paymentReference}`;

/** `refund`: exactly once per idempotency key, refusals for good. */
export function refundTests(suite: GatewaySuite): void {
  const { it } = suite;
  const deadline = suite.callTimeoutMs + suite.marginMs;
  const refund = (harness: GatewayHarness, request: RefundRequest) =>
    answer("law: refund answers", () => harness.gateway.refund(request), deadline);

  it("refund: one idempotency key twice answers the same refund (one refund)", async (harness, skip) => {
    if (suite.unsupported.refunds !== undefined) return skip(suite.unsupported.refunds);
    for (const currency of suite.currencies) {
      const { payment, paymentReference } = await paidLink(harness, suite, currency);
      const request = refundOf(payment, paymentReference, refundKey(paymentReference));
      const first = refunded(await refund(harness, request), `law: a paid ${currency} payment is refunded`);
      const second = refunded(
        await refund(harness, request),
        "law: a second refund with the same key answers the first refund",
      );
      assert.equal(second, first, "law: a second refund with the same key answers the same refund reference");
    }
  });

  it("refund: concurrent calls with one idempotency key make one refund", async (harness, skip) => {
    if (suite.unsupported.refunds !== undefined) return skip(suite.unsupported.refunds);
    const { payment, paymentReference } = await paidLink(harness, suite);
    const request = refundOf(payment, paymentReference, refundKey(paymentReference));
    const answers = await Promise.all([1, 2, 3].map(() => refund(harness, request)));
    const references = new Set(
      answers
        .filter((result) => result.outcome !== "retry_later")
        .map((result) => refunded(result, "law: each concurrent call refunds or answers retry_later")),
    );
    const settled = refunded(
      await refund(harness, request),
      "law: a call with the key after the race answers the refund",
    );
    references.add(settled);
    assert.equal(references.size, 1, "law: every call with one key answers the same refund reference");
  });

  it("refund: an unknown provider payment is refused (retrying will not help)", async (harness) => {
    const { payment } = await createdLink(harness, suite);
    const reference = `unknown_payment_${process.pid}_${++keys}`;
    const result = await refund(harness, refundOf(payment, reference, refundKey(reference)));
    assert.equal(
      result.outcome,
      "refused",
      `law: refunding an unknown payment is refused (got ${JSON.stringify(result)})`,
    );
    if (result.outcome === "refused")
      assert.ok(result.reason.length > 0, "law: a refusal gives the provider's reason");
  });
}
