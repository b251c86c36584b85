/**
 * The test provider's webhook signatures, as the Standard Webhooks specification defines them: an
 * HMAC-SHA256 of `${id}.${timestamp}.${body}` keyed with the base64 bytes of a `whsec_` secret, sent as
 * `webhook-signature: v1,<base64>` next to `webhook-id` and `webhook-timestamp` (Unix seconds).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** A webhook as the provider sends it: the raw body and the headers, names in lower case. */
export interface TestWebhook {
  readonly rawBody: string;
  readonly headers: Record<string, string>;
}

/** A new `whsec_` secret: 24 random bytes, base64. */
export const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

function key(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
}

function signature(secret: string, id: string, timestamp: string, rawBody: string): string {
  return createHmac("sha256", key(secret)).update(`${id}.${timestamp}.${rawBody}`).digest("base64");
}

/** Signs `rawBody` as webhook `id`, sent at `at`: the body and its three headers. */
export function signWebhook(secret: string, id: string, at: Date, rawBody: string): TestWebhook {
  const timestamp = String(Math.floor(at.getTime() / 1_000));
  return {
    rawBody,
    headers: {
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${signature(secret, id, timestamp, rawBody)}`,
    },
  };
}

/** Why a webhook is not authentic, or `verified` with its id. */
export type Verification =
  | { readonly outcome: "verified"; readonly id: string }
  | { readonly outcome: "missing_signature" | "bad_signature" | "stale" | "malformed" };

/**
 * Checks a webhook's signature, then its age: a correct signature made more than `toleranceMs` before
 * or after `now` is `stale`. Any of the space-separated `v1,` signatures may match (secret rotation).
 */
export function verifyWebhook(
  secret: string,
  rawBody: string,
  headers: Readonly<Record<string, string>>,
  now: Date,
  toleranceMs: number,
): Verification {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return { outcome: "missing_signature" };
  if (!/^\d{1,12}$/.test(timestamp)) return { outcome: "malformed" };
  const expected = Buffer.from(signature(secret, id, timestamp, rawBody), "base64");
  const matches = signatures.split(" ").some((entry) => {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || value === undefined) return false;
    const given = Buffer.from(value, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) return { outcome: "bad_signature" };
  if (Math.abs(now.getTime() - Number(timestamp) * 1_000) > toleranceMs) return { outcome: "stale" };
  return { outcome: "verified", id };
}
