import { createHash } from "node:crypto";
import type { IdempotencyStore, Scope } from "@paylink/core";
import { type HttpError, httpError } from "./codes.js";

/** A response as the transport stores and replays it. */
export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** How long a key is remembered: 24 hours. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** The header that marks a replayed response. */
export const REPLAYED_HEADER = "Idempotent-Replayed";

/** `Idempotency-Key`: 1–255 printable ASCII characters. */
const KEY_PATTERN = /^[\x21-\x7e][\x20-\x7e]{0,253}[\x21-\x7e]$|^[\x21-\x7e]$/;

/** Checks the header value; `undefined` when absent. */
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
        "The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
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

/**
 * Runs `work` at most once per (scope, key) within the retention window, and replays its response for a
 * repeat with the same fingerprint. A different fingerprint is 422 `idempotency_key_reused`; a key whose
 * first request is still running is 409 `idempotency_key_in_use`. A 5xx response, or a throw, releases
 * the key so the client may retry.
 */
export async function idempotent(
  store: IdempotencyStore,
  scope: Scope,
  key: string,
  fingerprint: string,
  now: Date,
  work: () => Promise<Reply>,
  onStoreError: (error: unknown) => void,
): Promise<Reply | HttpError> {
  let existing: Awaited<ReturnType<IdempotencyStore["claimIdempotencyKey"]>>;
  try {
    existing = await store.claimIdempotencyKey(
      scope,
      { key, fingerprint, response: null, createdAt: now.toISOString() },
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
      return httpError(
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still running; retry later to get its response.",
        { param: "Idempotency-Key" },
      );
    }
    return {
      status: existing.response.status,
      body: existing.response.body,
      headers: { [REPLAYED_HEADER]: "true" },
    };
  }
  let reply: Reply;
  try {
    reply = await work();
  } catch (error) {
    await store.releaseIdempotencyKey(scope, key).catch(onStoreError);
    throw error;
  }
  if (reply.status >= 500) {
    await store.releaseIdempotencyKey(scope, key).catch(onStoreError);
  } else {
    // If this write fails the key stays claimed without a response: repeats answer 409 until it expires,
    // which is safe (the work is never done twice).
    await store
      .completeIdempotencyKey(scope, key, { status: reply.status, body: reply.body })
      .catch(onStoreError);
  }
  return reply;
}
