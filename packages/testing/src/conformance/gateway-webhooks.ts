import assert from "node:assert/strict";
import type { Payment, WebhookParseResult } from "@paylink/core";
import {
  answer,
  expectOutcome,
  type ForgeryKind,
  type GatewayHarness,
  type GatewaySuite,
  newLink,
  type ProviderWebhook,
  paid,
} from "./gateway-kit.js";
import { createdLink } from "./gateway-links.js";

const FORGERIES: readonly ForgeryKind[] = ["bad_signature", "stale", "missing_signature"];

/** Byte-level changes to a signed body: one that keeps its meaning, one that changes it. */
function alterations(
  rawBody: string,
  payment: Payment,
  otherId: string,
): readonly [[string, string], [string, string]] {
  const lastDigit = rawBody.search(/\d(?!.*\d)/s);
  const meaningful = rawBody.includes(payment.id)
    ? rawBody.replaceAll(payment.id, otherId)
    : lastDigit < 0
      ? `${rawBody}x`
      : `${rawBody.slice(0, lastDigit)}${(Number(rawBody[lastDigit]) + 1) % 10}${rawBody.slice(lastDigit + 1)}`;
  const harmless = rawBody.startsWith("{") ? `{ ${rawBody.slice(1)}` : ` ${rawBody}`;
  return [
    ["a space added (the same JSON, other bytes)", harmless],
    [rawBody.includes(payment.id) ? "the payment redirected to another link" : "a digit changed", meaningful],
  ];
}

/** Asserts the verified webhook of a successful payment of `payment` and answers its success event. */
function assertSuccess(parsed: WebhookParseResult, payment: Payment) {
  const verified = expectOutcome(parsed, "verified", "law: a genuine payment webhook is verified");
  assert.ok(
    typeof verified.eventId === "string" && verified.eventId.length > 0,
    "law: a verified webhook has an eventId (the inbox dedupes on it)",
  );
  assert.ok(
    typeof verified.eventType === "string" && verified.eventType.length > 0,
    "law: a verified webhook names its type",
  );
  const successes = verified.events.filter((event) => event.type === "PAYMENT_SUCCEEDED");
  assert.equal(successes.length, 1, "law: a payment's webhook maps to exactly one PAYMENT_SUCCEEDED");
  for (const event of verified.events) {
    assert.equal(
      event.paylinkId,
      payment.id,
      "law: every event names the paid link's payment (paylinkId from the paylink_id metadata)",
    );
    assert.notEqual(event.type, "PAYMENT_FAILED", "law: a payment's webhook reports no failure");
  }
  const [success] = successes;
  assert.ok(
    typeof success?.paymentReference === "string" && success.paymentReference.length > 0,
    "law: the success names the provider's payment (paymentReference), to refund",
  );
  if (success.amount !== undefined)
    assert.equal(
      success.amount,
      payment.amountTotal,
      `law: the success's amount is the link's total in minor units (${payment.currency})`,
    );
  if (success.currency !== undefined)
    assert.equal(success.currency, payment.currency, "law: the success's currency is the link's");
  return { eventId: verified.eventId, success };
}

/** `parseWebhook`: verified payments and failures, redeliveries, forgeries and altered bodies. */
export function webhookTests(suite: GatewaySuite): void {
  const { it } = suite;
  const deadline = suite.callTimeoutMs + suite.marginMs;
  const parse = (harness: GatewayHarness, webhook: ProviderWebhook) =>
    answer(
      "law: parseWebhook answers",
      () => harness.gateway.parseWebhook(webhook.rawBody, webhook.headers),
      deadline,
    );

  it("parseWebhook: a payment is verified as one PAYMENT_SUCCEEDED for its link, with its paymentReference", async (harness) => {
    for (const currency of suite.currencies) {
      const { payment, reference } = await createdLink(harness, suite, currency);
      const webhook = await paid(harness, reference, "law: an open link can be paid");
      assertSuccess(await parse(harness, webhook), payment);
    }
  });

  it("parseWebhook: the same webhook parsed twice has the same eventId and events; two payments differ", async (harness) => {
    const first = await createdLink(harness, suite);
    const second = await createdLink(harness, suite);
    const webhook = await paid(harness, first.reference, "law: an open link can be paid");
    const once = await parse(harness, webhook);
    const again = await parse(harness, webhook);
    assertSuccess(once, first.payment);
    assert.deepEqual(
      again,
      once,
      "law: a redelivered webhook parses to the same eventId and events (the inbox dedupes on the eventId)",
    );
    const other = assertSuccess(
      await parse(harness, await paid(harness, second.reference, "law: an open link can be paid")),
      second.payment,
    );
    assert.notEqual(
      other.eventId,
      expectOutcome(once, "verified", "law: verified").eventId,
      "law: two payments' webhooks have different eventIds (the inbox would drop the second)",
    );
    assert.notEqual(
      other.success.paymentReference,
      assertSuccess(once, first.payment).success.paymentReference,
      "law: two payments have different paymentReferences",
    );
  });

  it("parseWebhook: a failed attempt is verified as PAYMENT_FAILED for its link (when the provider reports failures)", async (harness, skip) => {
    const { payment, reference } = await createdLink(harness, suite);
    const webhook = await harness.fail(reference);
    if (webhook === undefined) return skip("the provider sends no webhook for a failed attempt");
    const verified = expectOutcome(
      await parse(harness, webhook),
      "verified",
      "law: a genuine failure webhook is verified",
    );
    const failures = verified.events.filter((event) => event.type === "PAYMENT_FAILED");
    assert.equal(failures.length, 1, "law: a failed attempt maps to exactly one PAYMENT_FAILED");
    assert.equal(failures[0]?.paylinkId, payment.id, "law: the failure names the link's payment");
    assert.deepEqual(
      verified.events.filter((event) => event.type === "PAYMENT_SUCCEEDED"),
      [],
      "law: a failed attempt reports no success",
    );
  });

  for (const kind of FORGERIES)
    it(`parseWebhook: a forged webhook (${kind}) is rejected as ${kind}`, async (harness, skip) => {
      if (kind === "stale" && suite.unsupported.staleWebhooks !== undefined)
        return skip(suite.unsupported.staleWebhooks);
      const { reference } = await createdLink(harness, suite);
      const forged = await harness.forged(reference, kind);
      const parsed = await parse(harness, forged);
      assert.deepEqual(
        parsed,
        { outcome: "rejected", reason: kind },
        `law: a webhook with a ${kind.replace("_", " ")} is rejected with the reason ${kind}`,
      );
    });

  const altered = (which: 0 | 1, title: string, unsupported?: () => string | undefined) =>
    it(`parseWebhook: a body altered after signing (${title}) is rejected as bad_signature`, async (harness, skip) => {
      const reason = unsupported?.();
      if (reason !== undefined) return skip(reason);
      const { payment, reference } = await createdLink(harness, suite);
      const other = await newLink(harness.gateway.provider);
      const webhook = await paid(harness, reference, "law: an open link can be paid");
      const [how, rawBody] = alterations(webhook.rawBody, payment, other.id)[which];
      assert.notEqual(rawBody, webhook.rawBody, "the suite altered the body");
      assert.deepEqual(
        await parse(harness, { rawBody, headers: webhook.headers }),
        { outcome: "rejected", reason: "bad_signature" },
        `law: a body altered after signing (${how}) is rejected as bad_signature`,
      );
      assertSuccess(await parse(harness, webhook), payment);
    });
  altered(1, "a field changed");
  altered(0, "a byte that changes nothing in the JSON", () => suite.unsupported.rawBodySignatures);
}
