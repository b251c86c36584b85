import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dnaCallbackSignature, parseDnaCallback } from "../src/index.js";
import { type DnaHarness, makeDnaHarness } from "./harness.js";
import { aLink } from "./payments.js";

let h: DnaHarness;
beforeAll(async () => {
  h = await makeDnaHarness();
});
afterAll(async () => {
  await h.close();
});

async function aCreatedLink() {
  const payment = aLink({ amountTotal: 1050, amountSubtotal: 1050 });
  const result = await h.gateway.createLink(payment);
  if (result.outcome !== "created") throw new Error("not created");
  return { payment, reference: result.reference };
}

describe("DNA's signature, as DNA's PHP SDK computes it", () => {
  test("matches a value computed independently (PHP: base64_encode(hash_hmac('sha256', …, true)))", () => {
    // php -r 'echo base64_encode(hash_hmac("sha256", "tx-1" . 10.5 . "GBP" . "pay_1" . "" . json_encode(true), "s", true));'
    // hashes the string "tx-110.5GBPpay_1true"; the same HMAC from Node's crypto directly:
    const expected = createHmac("sha256", "s").update("tx-110.5GBPpay_1true").digest("base64");
    const fields = {
      id: "tx-1",
      amount: 10.5,
      currency: "GBP",
      invoiceId: "pay_1",
      errorCode: null,
      success: true,
    };
    expect(dnaCallbackSignature(fields, "s")).toBe(expected);
    // A whole amount is written as PHP writes the decoded float 10.0: "10".
    const whole = createHmac("sha256", "s").update("tx-110GBPpay_10false").digest("base64");
    expect(dnaCallbackSignature({ ...fields, amount: 10, errorCode: 0, success: false }, "s")).toBe(whole);
  });
});

describe("parseWebhook", () => {
  test("a paid callback is PAYMENT_SUCCEEDED for the paylink_id, with the transaction and minor units", async () => {
    const { payment, reference } = await aCreatedLink();
    const { rawBody, headers } = await h.pay(reference);
    const parsed = await h.gateway.parseWebhook(rawBody, headers);
    const transaction = h.fake.transactionOf(reference);
    // The payment is named by the invoiceId (= paylink_id), as stopLink's already_paid names it.
    expect(parsed).toEqual({
      outcome: "verified",
      eventId: `${transaction}:succeeded`,
      eventType: "payment.succeeded",
      events: [
        {
          type: "PAYMENT_SUCCEEDED",
          paylinkId: payment.id,
          paymentReference: payment.id,
          amount: 1050,
          currency: "GBP",
        },
      ],
    });
  });

  test("a failed attempt is START_PAYMENT then PAYMENT_FAILED", async () => {
    const { payment, reference } = await aCreatedLink();
    const delivered = await h.fail(reference);
    const parsed = await h.gateway.parseWebhook(delivered!.rawBody, delivered!.headers);
    expect(parsed.outcome).toBe("verified");
    if (parsed.outcome !== "verified") return;
    expect(parsed.eventType).toBe("payment.failed");
    expect(parsed.events.map((e) => [e.type, e.paylinkId])).toEqual([
      ["START_PAYMENT", payment.id],
      ["PAYMENT_FAILED", payment.id],
    ]);
  });

  test("the same callback delivered again has the same event id (the inbox records it once)", async () => {
    const { reference } = await aCreatedLink();
    const { rawBody, headers } = await h.pay(reference);
    const first = await h.gateway.parseWebhook(rawBody, headers);
    const again = await h.gateway.parseWebhook(rawBody, headers);
    expect(again).toEqual(first);
  });

  test("a signature made with another key is bad_signature", async () => {
    const { reference } = await aCreatedLink();
    const forged = await h.forged(reference, "bad_signature");
    expect(await h.gateway.parseWebhook(forged.rawBody, forged.headers)).toEqual({
      outcome: "rejected",
      reason: "bad_signature",
    });
  });

  test("no signature, or an empty one, is missing_signature", async () => {
    const { reference } = await aCreatedLink();
    const forged = await h.forged(reference, "missing_signature");
    expect(await h.gateway.parseWebhook(forged.rawBody, forged.headers)).toEqual({
      outcome: "rejected",
      reason: "missing_signature",
    });
    const empty = JSON.stringify({ ...JSON.parse((await h.pay(reference)).rawBody), signature: "" });
    expect(await h.gateway.parseWebhook(empty, {})).toEqual({
      outcome: "rejected",
      reason: "missing_signature",
    });
  });

  test.each([
    ["amount", 1],
    ["currency", "EUR"],
    ["invoiceId", "pay_of_someone_else"],
    ["id", "another-transaction"],
    ["success", false],
    ["errorCode", 5],
  ])("a body whose signed field %s was altered after signing is bad_signature", async (field, value) => {
    const { reference } = await aCreatedLink();
    const genuine = JSON.parse((await h.pay(reference)).rawBody);
    const altered = JSON.stringify({ ...genuine, [field]: value });
    expect(await h.gateway.parseWebhook(altered, {})).toEqual({
      outcome: "rejected",
      reason: "bad_signature",
    });
  });

  test("an unsigned field can be altered, and changes nothing Paylink reads", async () => {
    const { reference } = await aCreatedLink();
    const genuine = JSON.parse((await h.pay(reference)).rawBody);
    const first = await h.gateway.parseWebhook(JSON.stringify(genuine), {});
    const altered = { ...genuine, merchantCustomData: '{"paylink_id":"pay_other"}', message: "x" };
    expect(await h.gateway.parseWebhook(JSON.stringify(altered), {})).toEqual(first);
  });

  test("a body that is not a JSON object, or lacks the fields DNA signs, is malformed", async () => {
    expect(parseDnaCallback("not json", "k")).toEqual({ outcome: "rejected", reason: "malformed" });
    expect(parseDnaCallback("[1]", "k")).toEqual({ outcome: "rejected", reason: "malformed" });
    const noInvoice = { id: "tx", amount: 1, currency: "GBP", success: true };
    const signed = JSON.stringify({ ...noInvoice, signature: dnaCallbackSignature(noInvoice, "k") });
    expect(parseDnaCallback(signed, "k")).toEqual({ outcome: "rejected", reason: "malformed" });
  });

  test("a stale callback cannot exist: DNA signs no timestamp, so the harness refuses to forge one", async () => {
    const { reference } = await aCreatedLink();
    await expect(h.forged(reference, "stale")).rejects.toThrow(/no signed timestamp/);
  });

  test("callbackSecret verifies with its own key, not the client secret", async () => {
    const other = await makeDnaHarness({ callbackSecret: "separate-callback-key" });
    try {
      const created = await other.gateway.createLink(aLink());
      if (created.outcome !== "created") throw new Error("not created");
      const signedWithClientSecret = await other.pay(created.reference);
      expect(await other.gateway.parseWebhook(signedWithClientSecret.rawBody, {})).toEqual({
        outcome: "rejected",
        reason: "bad_signature",
      });
      const genuine = other.fake.signedWith(created.reference, "separate-callback-key");
      const parsed = await other.gateway.parseWebhook(JSON.stringify(genuine), {});
      expect(parsed.outcome).toBe("verified");
    } finally {
      await other.close();
    }
  });
});
