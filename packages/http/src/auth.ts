import * as crypto from "node:crypto";
import { type HttpError, httpError } from "./errors.js";

/** Who an API key belongs to, and what it may do. */
export interface Principal {
  readonly accountId: string;
  readonly livemode: boolean;
  /** False for a read-only key: every POST answers 403 `key_not_permitted`. */
  readonly canWrite: boolean;
}

/**
 * Resolves an API key to its principal, or `undefined` for an unknown key. Called once per request with
 * the key exactly as sent; it must not log it.
 */
export type Authenticate = (key: string) => Promise<Principal | undefined>;

// `crypto.hash` (Node ≥ 20.12) hashes in one call, about twice as fast as `createHash` for a short key.
const oneShot = (crypto as { hash?: typeof crypto.hash }).hash;
const sha256: (text: string) => Buffer =
  typeof oneShot === "function"
    ? (text) => oneShot("sha256", text, "buffer")
    : (text) => crypto.createHash("sha256").update(text, "utf8").digest();

/**
 * An {@link Authenticate} over a fixed table of keys. Keys are kept only as SHA-256 hashes and compared
 * with `crypto.timingSafeEqual` against every entry (no early exit), so response time does not reveal how
 * much of a key matched, nor which entry.
 *
 * @example
 * const authenticate = staticKeys({ sk_test_demo: { accountId: "acct_demo", livemode: false, canWrite: true } });
 */
export function staticKeys(keys: Readonly<Record<string, Principal>>): Authenticate {
  const entries = Object.entries(keys).map(([key, principal]) => {
    if (key.length === 0) throw new Error("staticKeys: an API key cannot be empty");
    return { hash: sha256(key), principal: { ...principal } };
  });
  return async (key) => {
    const hash = sha256(key);
    let found: Principal | undefined;
    for (const entry of entries) {
      if (crypto.timingSafeEqual(entry.hash, hash)) found = entry.principal;
    }
    return found;
  };
}

/** Longest key accepted before lookup; longer ones are invalid without hashing them. */
const MAX_KEY_LENGTH = 1024;

/**
 * The API key of a request: `Authorization: Bearer <key>`, or `x-api-key: <key>` when `allowApiKeyHeader`.
 * Two different keys, a non-Bearer `Authorization` or an over-long key are refused.
 */
export function credentialOf(
  headers: Headers,
  allowApiKeyHeader: boolean,
): { ok: true; key: string } | { ok: false; error: HttpError } {
  const authorization = headers.get("authorization");
  const headerKey = allowApiKeyHeader ? headers.get("x-api-key") : null;
  let bearer: string | null = null;
  if (authorization !== null && authorization.trim() !== "") {
    const match = /^Bearer +(\S+) *$/i.exec(authorization.trim());
    if (!match) {
      return {
        ok: false,
        error: httpError("api_key_invalid", "The Authorization header must be `Bearer <api key>`.", {
          param: "Authorization",
        }),
      };
    }
    bearer = match[1]!;
  }
  const direct = headerKey !== null && headerKey.trim() !== "" ? headerKey.trim() : null;
  if (bearer !== null && direct !== null && bearer !== direct) {
    return {
      ok: false,
      error: httpError("api_key_invalid", "Two different API keys were sent; send one.", {
        param: "x-api-key",
      }),
    };
  }
  const key = bearer ?? direct;
  if (key === null) {
    return {
      ok: false,
      error: httpError(
        "api_key_missing",
        allowApiKeyHeader
          ? "No API key. Send `x-api-key: <key>` or `Authorization: Bearer <key>`."
          : "No API key. Send `Authorization: Bearer <key>`.",
      ),
    };
  }
  if (key.length > MAX_KEY_LENGTH) {
    return { ok: false, error: httpError("api_key_invalid", "Invalid API key.") };
  }
  return { ok: true, key };
}
