import { createHmac, timingSafeEqual } from "node:crypto";
import { isCurrency, type ProviderPaymentEvent, toMinorUnits, type WebhookParseResult } from "@paylink/core";

/**
 * The fields of a DNA payment callback (the POST DNA sends to a link's `callbackUrl` or
 * `failureCallbackUrl`) that Paylink reads. DNA sends more (card, 3-D Secure, `merchantCustomData` …);
 * none of them is covered by the signature, so none of them decides anything here.
 */
export interface DnaCallback {
  /** DNA's transaction id: the payment to refund. */
  readonly id?: unknown;
  /** Major units, as a JSON number. */
  readonly amount?: unknown;
  readonly currency?: unknown;
  /** The link's invoice id, which Paylink sets to the payment id (`paylink_id`). */
  readonly invoiceId?: unknown;
  readonly errorCode?: unknown;
  /** `true` for a payment that went through, `false` for a failed attempt. */
  readonly success?: unknown;
  /** Base64 HMAC-SHA256; see {@link dnaCallbackSignature}. */
  readonly signature?: unknown;
}

/** PHP's string conversion of a decoded JSON value, as DNA's SDKs concatenate it: null and absent are "". */
function phpString(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "boolean") return value ? "1" : "";
  return String(value);
}

/**
 * The signature DNA puts in a callback's `signature` field: base64 of HMAC-SHA256, keyed with the
 * client secret, over `id . amount . currency . invoiceId . errorCode . json_encode(success)`.
 *
 * Source: DNA Payments' own PHP SDK, `DNAPayments::isValidSignature` in
 * github.com/DNA-Payments/dnapayments-sdk-php `lib/DNAPayments.php`; the same function is in DNA's
 * WooCommerce and OpenCart plugins, and the WooCommerce plugin calls it with the account's
 * `client_secret` (`includes/utils/class-webhooks-init.php`). The SDK concatenates PHP values decoded
 * from the JSON body, so a number is written in its shortest form (`10.5`, `10`), as JavaScript's
 * `String` does, and `json_encode` writes `true`, `false` or `null`.
 */
export function dnaCallbackSignature(callback: DnaCallback, secret: string): string {
  const { id, amount, currency, invoiceId, errorCode, success } = callback;
  const signed =
    phpString(id) +
    phpString(amount) +
    phpString(currency) +
    phpString(invoiceId) +
    phpString(errorCode) +
    (JSON.stringify(success) ?? "null");
  return createHmac("sha256", secret).update(signed, "utf8").digest("base64");
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(given, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies a DNA callback and maps it: a successful payment is `PAYMENT_SUCCEEDED`; a failed attempt
 * is `START_PAYMENT` then `PAYMENT_FAILED` (DNA reports the attempt only by its failure, and the
 * machine moves a failure only out of `processing`). The event id is DNA's transaction id and the
 * outcome. The `paymentReference` is the link's `invoiceId` (the Paylink payment id), not the
 * transaction id: DNA's link object, which `stopLink` reads for `already_paid`, names no transaction,
 * and both paths must name the same payment so that a late payment is refunded once.
 */
export function parseDnaCallback(rawBody: string, secret: string): WebhookParseResult {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return { outcome: "rejected", reason: "malformed" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { outcome: "rejected", reason: "malformed" };
  }
  const callback = body as DnaCallback;
  if (typeof callback.signature !== "string" || callback.signature === "") {
    return { outcome: "rejected", reason: "missing_signature" };
  }
  if (!sameSignature(dnaCallbackSignature(callback, secret), callback.signature)) {
    return { outcome: "rejected", reason: "bad_signature" };
  }
  const { id, invoiceId, success } = callback;
  if (typeof id !== "string" || id === "" || typeof invoiceId !== "string" || invoiceId === "") {
    return { outcome: "rejected", reason: "malformed" };
  }
  if (typeof success !== "boolean") return { outcome: "rejected", reason: "malformed" };

  const money = paidAmount(callback.amount, callback.currency);
  const paylinkId = invoiceId;
  const paymentReference = invoiceId;
  if (success) {
    return {
      outcome: "verified",
      eventId: `${id}:succeeded`,
      eventType: "payment.succeeded",
      events: [{ type: "PAYMENT_SUCCEEDED", paylinkId, paymentReference, ...money }],
    };
  }
  const events: ProviderPaymentEvent[] = [
    { type: "START_PAYMENT", paylinkId, paymentReference, ...money },
    { type: "PAYMENT_FAILED", paylinkId, paymentReference, ...money },
  ];
  return { outcome: "verified", eventId: `${id}:failed`, eventType: "payment.failed", events };
}

function paidAmount(amount: unknown, currency: unknown): { amount?: number; currency?: string } {
  if (typeof currency !== "string" || !isCurrency(currency)) return {};
  if (typeof amount !== "number" && typeof amount !== "string") return {};
  const minor = toMinorUnits(amount, currency);
  return minor === undefined ? {} : { amount: minor, currency };
}
