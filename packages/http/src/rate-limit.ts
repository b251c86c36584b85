/**
 * The limit on failed API-key checks per client: a brute-force brake that never touches a client that
 * has not failed.
 */
import type { Authenticate, Principal } from "./auth.js";

/**
 * Options of `createPaylinkApp`'s `authFailureLimit`: at most `max` unknown API keys per client within
 * any `windowMs` milliseconds.
 *
 * The rule:
 * - A failure is a key that `authenticate` did not know. A request without a key, with a malformed
 *   `Authorization` header or with two different keys is refused before any key is checked, so it
 *   neither counts nor is limited; a throwing `authenticate` (a 500) does not count either.
 * - Once a client has `max` failures within the window, every further request of it that carries a key
 *   answers 429 `too_many_auth_failures` with `Retry-After` (the seconds until its oldest failure leaves
 *   the window), and `authenticate` is not called. Valid keys are refused too: if they were still
 *   checked, the 401-or-200 answer would keep telling an attacker which guess was right.
 * - Successes are never counted and never reset the count (else a tenant with one valid key could
 *   interleave it with guesses at other tenants' keys). A client without failures in the window is
 *   never refused or delayed: its requests cost one lookup in an empty or small map.
 * - While a client has failures in the window, its key checks still running count against the limit
 *   until they answer, so parallel requests cannot overshoot `max` once a failure is known.
 *
 * Memory is bounded: at most `maxClients` clients are tracked, each with at most `max` timestamps; when
 * full, the client whose last failure is the oldest is forgotten.
 */
export interface AuthFailureLimit {
  /** Failed key checks allowed per client within `windowMs` (a positive integer). */
  readonly max: number;
  /** The sliding window, in milliseconds (positive). */
  readonly windowMs: number;
  /**
   * The client a request comes from. Default: the socket's remote address under `@hono/node-server`
   * (`serve`), with IPv6 addresses grouped by their /64 prefix (one host usually owns a whole /64);
   * requests without one (other runtimes, `app.fetch` called directly) share one bucket. Behind a proxy
   * or load balancer every request has the proxy's address: pass a `clientOf` that reads the client's
   * address from the header your own proxy sets (never one the client can choose), or all clients share
   * one budget and one attacker locks everyone out. Return `undefined` for the shared bucket.
   */
  readonly clientOf?: (request: Request, env: unknown) => string | undefined;
  /** Most clients tracked at once. Default 10 000. */
  readonly maxClients?: number;
}

/** Answer of a limited key check for a client over its limit: nothing was checked. */
export class AuthFailuresExceeded {
  /** @param retryAfterSeconds - whole seconds until the client may send a key again (at least 1). */
  constructor(readonly retryAfterSeconds: number) {}
}

/** A key check with the request it came with; see {@link limitAuthFailures}. */
export type LimitedAuthenticate = (
  key: string,
  request: Request,
  env: unknown,
) => Promise<Principal | undefined | AuthFailuresExceeded>;

/** The bucket of requests whose client is unknown. */
const SHARED = "\u0000shared";

/**
 * The default client of a request: `env.incoming.socket.remoteAddress` as `@hono/node-server` passes
 * it, IPv4 as is and IPv6 by /64 prefix; `undefined` when there is none.
 */
export function remoteClientOf(_request: Request, env: unknown): string | undefined {
  const address = (env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined)?.incoming
    ?.socket?.remoteAddress;
  if (typeof address !== "string" || address === "") return undefined;
  if (!address.includes(":")) return address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1];
  return ipv6Prefix64(address);
}

/** The first four groups of an IPv6 address (`::` expanded, zone dropped), as `a:b:c:d::/64`. */
function ipv6Prefix64(address: string): string {
  const bare = address.split("%")[0]!.toLowerCase();
  const [head = "", tail] = bare.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? 0 : Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = [...headGroups, ...Array<string>(zeros).fill("0"), ...tailGroups];
  const first = groups.slice(0, 4);
  while (first.length < 4) first.push("0");
  return `${first.map((group) => group.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** One tracked client: its failure times (a ring of at most `max`) and its key checks in flight. */
interface Bucket {
  readonly times: Float64Array;
  start: number;
  count: number;
  pending: number;
}

/** Checks that `limit` is usable; a bad limit is a programming error, reported at start-up. */
function validate(limit: AuthFailureLimit): void {
  if (!Number.isSafeInteger(limit.max) || limit.max < 1) {
    throw new RangeError("authFailureLimit.max must be a positive integer");
  }
  if (!Number.isFinite(limit.windowMs) || limit.windowMs <= 0) {
    throw new RangeError("authFailureLimit.windowMs must be a positive number of milliseconds");
  }
  const maxClients = limit.maxClients ?? 10_000;
  if (!Number.isSafeInteger(maxClients) || maxClients < 1) {
    throw new RangeError("authFailureLimit.maxClients must be a positive integer");
  }
}

/**
 * Wraps `authenticate` with the per-client limit of {@link AuthFailureLimit}; `nowMs` is the app's clock.
 * Without a limit (`undefined` or `false`) it answers `authenticate` itself, so the default costs nothing.
 */
export function limitAuthFailures(
  authenticate: Authenticate,
  limit: AuthFailureLimit | false | undefined,
  nowMs: () => number,
): LimitedAuthenticate {
  if (limit === undefined || limit === false) return authenticate;
  validate(limit);
  const { max, windowMs } = limit;
  const maxClients = limit.maxClients ?? 10_000;
  const clientOf = limit.clientOf ?? remoteClientOf;
  // Insertion order is recency of the last failure (a failure re-inserts its client), so the first
  // entry is the one to forget when the map is full.
  const buckets = new Map<string, Bucket>();

  /** Drops the failures that left the window. */
  const expire = (bucket: Bucket, now: number) => {
    const cutoff = now - windowMs;
    while (bucket.count > 0 && bucket.times[bucket.start]! <= cutoff) {
      bucket.start = (bucket.start + 1) % max;
      bucket.count--;
    }
  };

  const recordFailure = (client: string, now: number) => {
    let bucket = buckets.get(client);
    if (bucket === undefined) {
      if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value!);
      bucket = { times: new Float64Array(max), start: 0, count: 0, pending: 0 };
    } else {
      buckets.delete(client);
      expire(bucket, now);
    }
    buckets.set(client, bucket);
    if (bucket.count === max) {
      // Full (checks that were in flight when the limit was reached): the oldest gives way.
      bucket.times[bucket.start] = now;
      bucket.start = (bucket.start + 1) % max;
    } else {
      bucket.times[(bucket.start + bucket.count) % max] = now;
      bucket.count++;
    }
  };

  /** A check of a client without failures in the window: nothing to reserve, a failure starts a bucket. */
  const untracked = async (key: string, request: Request, env: unknown, client: string | undefined) => {
    const principal = await authenticate(key);
    if (principal === undefined) recordFailure(client ?? clientOf(request, env) ?? SHARED, nowMs());
    return principal;
  };

  /** A check of a client with failures in the window: reserved while it runs, so parallel guesses count. */
  const tracked = async (key: string, client: string, bucket: Bucket) => {
    bucket.pending++;
    let principal: Principal | undefined;
    try {
      principal = await authenticate(key);
    } finally {
      bucket.pending--;
    }
    if (principal === undefined) recordFailure(client, nowMs());
    return principal;
  };

  return (key, request, env) => {
    // While nobody has failed, a request costs no lookup at all: its client is only computed on failure.
    if (buckets.size === 0) return untracked(key, request, env, undefined);
    const client = clientOf(request, env) ?? SHARED;
    const bucket = buckets.get(client);
    if (bucket === undefined) return untracked(key, request, env, client);
    const now = nowMs();
    expire(bucket, now);
    if (bucket.count === 0 && bucket.pending === 0) {
      buckets.delete(client);
      return untracked(key, request, env, client);
    }
    if (bucket.count + bucket.pending >= max) {
      // Over the limit on failures alone: wait until the oldest leaves the window. Over it only with
      // checks in flight: those answer soon, so try again in a second.
      const waitMs = bucket.count >= max ? bucket.times[bucket.start]! + windowMs - now : 1000;
      return Promise.resolve(new AuthFailuresExceeded(Math.max(1, Math.ceil(waitMs / 1000))));
    }
    return tracked(key, client, bucket);
  };
}
