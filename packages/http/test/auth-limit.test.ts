/**
 * `authFailureLimit`: a client that sent too many unknown keys within the window is answered 429 with
 * `Retry-After`, without its keys being checked; other clients and successes are never affected.
 */
import {
  type Authenticate,
  type AuthFailureLimit,
  type PaylinkAppOptions,
  remoteClientOf,
  type ServerHandle,
  serve,
  staticKeys,
} from "@paylink/http";
import { describe, expect, it } from "vitest";
import { checkResponse } from "./check.js";
import { ERROR_A_KEYS, KEYS, type SendInit, setup } from "./helpers.js";

const WINDOW = 60_000;
const WRONG = "sk_test_wrong_0000";

const principals = {
  [KEYS.rw]: { accountId: "acct_test", livemode: false, canWrite: true },
  [KEYS.other]: { accountId: "acct_other", livemode: false, canWrite: true },
};

/** An app with the limit on (clients told apart by an `x-client` test header) and a count of key checks. */
function limited(limit: Partial<AuthFailureLimit> = {}, overrides: Partial<PaylinkAppOptions> = {}) {
  const checks = { count: 0 };
  const inner = staticKeys(principals);
  const authenticate: Authenticate = (key) => {
    checks.count++;
    return inner(key);
  };
  const s = setup({
    authenticate,
    authFailureLimit: {
      max: 3,
      windowMs: WINDOW,
      clientOf: (request) => request.headers.get("x-client") ?? undefined,
      ...limit,
    },
    ...overrides,
  });
  const get = (client: string, key: string | null, init: SendInit = {}) =>
    s.send("GET", "/payments?limit=1", { key, ...init, headers: { "x-client": client, ...init.headers } });
  return { s, checks, get };
}

const codeOf = async (response: Response) => {
  const body = (await response.clone().json()) as { code?: string; error?: { code: string } };
  return body.error?.code ?? body.code;
};

describe("authFailureLimit", () => {
  it("after max unknown keys, answers 429 too_many_auth_failures with Retry-After, without checking keys", async () => {
    const { s, checks, get } = limited();
    for (let i = 0; i < 3; i++) {
      const response = await get("mallory", `${WRONG}${i}`);
      expect(response.status).toBe(401);
      expect(await codeOf(response)).toBe("api_key_invalid");
      s.clock.advance(1000);
    }
    expect(checks.count).toBe(3);

    const refused = await get("mallory", `${WRONG}x`);
    expect(refused.status).toBe(429);
    // The oldest failure (3 s ago) leaves the 60 s window in 57 s.
    expect(refused.headers.get("retry-after")).toBe("57");
    expect(refused.headers.get("x-content-type-options")).toBe("nosniff");
    const body = (await refused.json()) as { success: boolean; error: Record<string, unknown> };
    expect(body.success).toBe(false);
    expect(Object.keys(body.error)).toEqual(ERROR_A_KEYS);
    expect(body.error).toEqual({
      type: "rate_limit_error",
      code: "too_many_auth_failures",
      message: "Too many failed API key checks from this client; retry in 57 s.",
      param: null,
      details: null,
      doc_url: "https://docs.example.com/paylink/docs/errors.md#too_many_auth_failures",
    });
    // A valid key from the blocked client is refused too: answering it would tell a guess from a hit.
    const valid = await get("mallory", KEYS.rw);
    expect(valid.status).toBe(429);
    expect(checks.count).toBe(3);
    await checkResponse({ method: "GET", path: "/payments", headers: [], body: undefined }, valid);
  });

  it("answers in DNA's format on dialect B, and on writes before reading anything", async () => {
    const { s, get } = limited({ max: 1 });
    await get("mallory", WRONG);
    const response = await s.send("POST", "/v1/payment-links/pay_x/cancellation", {
      key: null,
      bearer: KEYS.rw,
      headers: { "x-client": "mallory", "idempotency-key": "k" },
    });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("60");
    expect(await response.json()).toEqual({
      code: "too_many_auth_failures",
      message: "Too many failed API key checks from this client; retry in 60 s.",
    });
  });

  it("lets the client in again as failures leave the window, one slot at a time", async () => {
    const { s, checks, get } = limited();
    await get("mallory", WRONG); // t = 0
    s.clock.advance(10_000);
    await get("mallory", WRONG); // t = 10 s
    await get("mallory", WRONG); // t = 10 s
    expect((await get("mallory", KEYS.rw)).status).toBe(429);
    s.clock.advance(WINDOW - 10_000 - 1); // 1 ms before the first failure leaves
    const last = await get("mallory", KEYS.rw);
    expect(last.status).toBe(429);
    expect(last.headers.get("retry-after")).toBe("1");
    s.clock.advance(1);
    expect((await get("mallory", KEYS.rw)).status).toBe(200);
    // One slot is free: one more unknown key is checked, then the client is blocked again until t = 70 s.
    expect((await get("mallory", WRONG)).status).toBe(401);
    const again = await get("mallory", KEYS.rw);
    expect(again.status).toBe(429);
    expect(again.headers.get("retry-after")).toBe("10");
    s.clock.advance(WINDOW);
    expect((await get("mallory", KEYS.rw)).status).toBe(200);
    expect((await get("mallory", WRONG)).status).toBe(401);
    expect(checks.count).toBe(7);
  });

  it("does not touch other clients: their valid keys pass and their own failures are counted apart", async () => {
    const { get } = limited();
    for (let i = 0; i < 5; i++) await get("mallory", WRONG);
    expect((await get("mallory", KEYS.rw)).status).toBe(429);
    expect((await get("alice", KEYS.rw)).status).toBe(200);
    expect((await get("alice", WRONG)).status).toBe(401);
    expect((await get("alice", WRONG)).status).toBe(401);
    expect((await get("alice", KEYS.other)).status).toBe(200);
    expect((await get("alice", WRONG)).status).toBe(401);
    expect((await get("alice", KEYS.rw)).status).toBe(429);
    expect((await get("bob", KEYS.rw)).status).toBe(200);
  });

  it("never counts successes, and successes do not reset the count of failures", async () => {
    const { get } = limited();
    for (let i = 0; i < 50; i++) expect((await get("alice", KEYS.rw)).status).toBe(200);
    expect((await get("alice", WRONG)).status).toBe(401);
    expect((await get("alice", WRONG)).status).toBe(401);
    // A tenant's valid key between guesses must not buy more guesses.
    expect((await get("alice", KEYS.rw)).status).toBe(200);
    expect((await get("alice", WRONG)).status).toBe(401);
    expect((await get("alice", KEYS.rw)).status).toBe(429);
  });

  it("does not count requests without a key or with a malformed one, and does not block them", async () => {
    const { checks, get } = limited({ max: 1 });
    for (let i = 0; i < 10; i++) {
      expect(await codeOf(await get("carol", null))).toBe("api_key_missing");
      expect(await codeOf(await get("carol", null, { headers: { authorization: "Basic abc" } }))).toBe(
        "api_key_invalid",
      );
    }
    expect(checks.count).toBe(0);
    expect((await get("carol", KEYS.rw)).status).toBe(200);
    await get("carol", WRONG);
    // Blocked now; a request without a key still learns only that it has none.
    expect((await get("carol", null)).status).toBe(401);
    expect((await get("carol", KEYS.rw)).status).toBe(429);
  });

  it("counts key checks still running against the limit, so parallel guesses cannot overshoot it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inner = staticKeys(principals);
    let checks = 0;
    const { get } = limited(
      { max: 3 },
      {
        authenticate: async (key) => {
          checks++;
          if (checks > 1) await gate;
          return inner(key);
        },
      },
    );
    expect((await get("mallory", WRONG)).status).toBe(401);
    const parallel = Array.from({ length: 10 }, () => get("mallory", WRONG));
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    const statuses = await Promise.all(parallel.map(async (p) => (await p).status));
    expect(statuses.filter((status) => status === 401)).toHaveLength(2);
    expect(statuses.filter((status) => status === 429)).toHaveLength(8);
    expect(checks).toBe(3);
  });

  it("keeps at most maxClients clients, forgetting the one whose last failure is the oldest", async () => {
    const { get } = limited({ max: 1, maxClients: 2 });
    await get("a", WRONG);
    await get("b", WRONG);
    expect((await get("a", KEYS.rw)).status).toBe(429);
    await get("c", WRONG); // a is forgotten
    expect((await get("a", KEYS.rw)).status).toBe(200);
    expect((await get("b", KEYS.rw)).status).toBe(429);
    expect((await get("c", KEYS.rw)).status).toBe(429);
  });

  it("is off by default: any number of unknown keys is answered 401", async () => {
    const s = setup();
    for (let i = 0; i < 50; i++) {
      expect((await s.send("GET", "/payments", { key: `${WRONG}${i}` })).status).toBe(401);
    }
    expect((await s.send("GET", "/payments")).status).toBe(200);
  });

  it("refuses a limit that cannot work", () => {
    for (const authFailureLimit of [
      { max: 0, windowMs: 1000 },
      { max: 1.5, windowMs: 1000 },
      { max: 3, windowMs: 0 },
      { max: 3, windowMs: 1000, maxClients: 0 },
    ]) {
      expect(() => setup({ authFailureLimit }), JSON.stringify(authFailureLimit)).toThrow(RangeError);
    }
  });
});

describe("the default client: the socket's address", () => {
  const env = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });

  it("tells clients apart by remote address, and groups IPv6 by /64", () => {
    const request = new Request("http://x/");
    expect(remoteClientOf(request, env("203.0.113.7"))).toBe("203.0.113.7");
    expect(remoteClientOf(request, env("::ffff:203.0.113.7"))).toBe("203.0.113.7");
    expect(remoteClientOf(request, env("2001:db8:1:2:aaaa::1"))).toBe("2001:db8:1:2::/64");
    expect(remoteClientOf(request, env("2001:0db8:0001:0002:ffff:0:0:9"))).toBe("2001:db8:1:2::/64");
    expect(remoteClientOf(request, env("2001:db8::1"))).toBe("2001:db8:0:0::/64");
    expect(remoteClientOf(request, env("fe80::1%eth0"))).toBe("fe80:0:0:0::/64");
    expect(remoteClientOf(request, env("::1"))).toBe("0:0:0:0::/64");
    expect(remoteClientOf(request, env("2001:db8::1:2:3:4:5"))).toBe("2001:db8:0:1::/64");
    expect(remoteClientOf(request, undefined)).toBeUndefined();
    expect(remoteClientOf(request, {})).toBeUndefined();
  });

  it("is what the app uses without clientOf; clients without an address share one bucket", async () => {
    const s = setup({ authFailureLimit: { max: 2, windowMs: WINDOW } });
    const send = (key: string, bindings?: object) =>
      s.app.fetch(new Request("http://x/payments", { headers: { "x-api-key": key } }), bindings);
    await send(WRONG, env("198.51.100.1"));
    await send(WRONG, env("198.51.100.1"));
    expect((await send(KEYS.rw, env("198.51.100.1"))).status).toBe(429);
    expect((await send(KEYS.rw, env("198.51.100.2"))).status).toBe(200);
    // Another host of the same IPv6 /64 is the same client.
    await send(WRONG, env("2001:db8:0:1::a"));
    await send(WRONG, env("2001:db8:0:1::b"));
    expect((await send(KEYS.rw, env("2001:db8:0:1::c"))).status).toBe(429);
    expect((await send(KEYS.rw, env("2001:db8:0:2::c"))).status).toBe(200);
    // No bindings (app.fetch called directly): one shared bucket.
    await send(WRONG);
    await send(WRONG);
    expect((await send(KEYS.rw)).status).toBe(429);
    expect((await send(KEYS.rw, env("198.51.100.2"))).status).toBe(200);
  });

  it("over a real socket: failures from 127.0.0.1 block 127.0.0.1, with Retry-After", async () => {
    const s = setup({ authFailureLimit: { max: 3, windowMs: 30_000 } });
    const server: ServerHandle = await serve({ app: s.app, port: 0 });
    try {
      const call = (key: string) => fetch(`${server.url}/payments`, { headers: { "x-api-key": key } });
      for (let i = 0; i < 3; i++) expect((await call(`${WRONG}${i}`)).status).toBe(401);
      const refused = await call(KEYS.rw);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("30");
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        "too_many_auth_failures",
      );
      s.clock.advance(30_000);
      expect((await call(KEYS.rw)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
