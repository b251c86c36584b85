import { createHash, randomBytes } from "node:crypto";
import type { IdempotencyStore, Scope } from "@paylink/core";
import { type HttpError, httpError } from "./errors.js";
import type { Reply } from "./replies.js";

/** How long a key is remembered: 24 hours. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** The header that marks a replayed response. */
export const REPLAYED_HEADER = "Idempotent-Replayed";

/**
 * `Idempotency-Key`: 1–255 printable ASCII characters, the comma excepted. A fetch `Headers` joins two
 * headers of one name into one value with ", ", so without the comma rule two keys would pass as the one
 * key `a, b`; refusing the comma catches every such merge on every runtime (Node, Bun, Deno, workers).
 */
const KEY_PATTERN = /^[\x21-\x2b\x2d-\x7e](?:[\x20-\x2b\x2d-\x7e]{0,253}[\x21-\x2b\x2d-\x7e])?$/;

/**
 * Checks the `Idempotency-Key` header; `undefined` when absent. More than one such header (seen as a
 * comma in the joined value) is refused with a message that says so.
 */
export function idempotencyKeyOf(
  headers: Headers,
): { ok: true; key: string | undefined } | { ok: false; error: HttpError } {
  const key = headers.get("idempotency-key");
  if (key === null) return { ok: true, key: undefined };
  if (!KEY_PATTERN.test(key)) {
    return {
      ok: false,
      error: httpError(
        "idempotency_key_invalid",
        key.includes(",")
          ? "Only one Idempotency-Key header is allowed, and a key cannot contain a comma."
          : "The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
        { param: "Idempotency-Key" },
      ),
    };
  }
  return { ok: true, key };
}

/** What the same key must repeat: SHA-256 of method, path (with query) and the raw body. */
export function fingerprintOf(method: string, path: string, body: string): string {
  return createHash("sha256").update(`${method}\n${path}\n${body}`, "utf8").digest("hex");
}

/** Thrown (and turned into 503) when the idempotency store fails. */
export class IdempotencyStoreError extends Error {
  constructor(override readonly cause: unknown) {
    super("idempotency store failed");
  }
}

/** How long a claim is held by its request before a retry may take it over: 10 seconds. */
export const IDEMPOTENCY_LEASE_MS = 10_000;

/**
 * Runs `work` at most once per (scope, key) within the retention window, and replays its response for a
 * repeat with the same fingerprint. A different fingerprint is 422 `idempotency_key_reused`; a key whose
 * first request is still running (within its lease) is 409 `idempotency_key_in_use` with `Retry-After`.
 *
 * `work` gets the claim's token and passes it to the command, which stores its response in the same
 * atomic write as the payment (see `IdempotentWrite` in core): a response can never be lost between the
 * write and the key. The command then calls `stored` (core's `onStored`), and the key is not written again. A command that writes nothing (a refusal, a repeated cancel) is stored here
 * afterwards; should the process die first, the retry runs it again, which changes nothing. A claim
 * whose holder died is taken over by a retry once its lease (`leaseMs`) ended. A 5xx response, or a
 * throw, releases the key so the client may retry at once.
 */
export async function idempotent(
  store: IdempotencyStore,
  scope: Scope,
  key: string,
  fingerprint: string,
  now: Date,
  leaseMs: number,
  work: (token: string, stored: () => void) => Promise<Reply>,
  onStoreError: (error: unknown) => void,
): Promise<Reply | HttpError> {
  const token = randomBytes(16).toString("base64url");
  const lockedUntil = new Date(now.getTime() + leaseMs).toISOString();
  let existing: Awaited<ReturnType<IdempotencyStore["claimIdempotencyKey"]>>;
  try {
    existing = await store.claimIdempotencyKey(
      scope,
      { key, fingerprint, response: null, createdAt: now.toISOString(), token, lockedUntil },
      new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS).toISOString(),
    );
  } catch (cause) {
    throw new IdempotencyStoreError(cause);
  }
  if (existing !== undefined) {
    if (existing.fingerprint !== fingerprint) {
      return httpError(
        "idempotency_key_reused",
        "This Idempotency-Key was used for a different request (method, path or body). Use a new key.",
        { param: "Idempotency-Key" },
      );
    }
    if (existing.response === null) {
      // Retry-After: when the lease ends, by which the request has answered or its holder is gone.
      const waitMs = Date.parse(existing.lockedUntil) - now.getTime();
      return httpError(
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still running; retry later to get its response.",
        { param: "Idempotency-Key", retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) },
      );
    }
    return {
      status: existing.response.status,
      body: existing.response.body,
      headers: { [REPLAYED_HEADER]: "true" },
    };
  }
  let reply: Reply;
  // Set when the command stored the response in its own write: then there is nothing left to store.
  let storedByCommand = false;
  try {
    reply = await work(token, () => {
      storedByCommand = true;
    });
  } catch (error) {
    await store.releaseIdempotencyKey(scope, key, token).catch(onStoreError);
    throw error;
  }
  if (reply.status >= 500) {
    await store.releaseIdempotencyKey(scope, key, token).catch(onStoreError);
  } else if (!storedByCommand) {
    // A no-op when the command already stored this response with its write. Should this write fail, the
    // key stays claimed without a response until its lease ends; then a retry runs the request again.
    await store
      .completeIdempotencyKey(scope, key, token, { status: reply.status, body: reply.body })
      .catch(onStoreError);
  }
  return reply;
}
