import { createPaymentLinks } from "@paylink/core";
import { createMemoryStore, type MemoryStore } from "@paylink/store-memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type RawRequest, requestArb, toRequest } from "./arbitraries.js";
import { checkResponse } from "./check.js";
import { BASE, KEYS, SCOPE, type Setup, setup } from "./helpers.js";
import { setupDelivery } from "./webhook-setup.js";

async function sendChecked(s: Setup, raw: RawRequest): Promise<number | undefined> {
  const request = toRequest(raw, BASE);
  if (request === undefined) return undefined;
  const before = await s.events();
  const size = s.store.size();
  const response = await s.app.fetch(request);
  await checkResponse(raw, response);
  if (response.status >= 400) {
    expect(await s.events(), `${raw.method} ${raw.path} ${response.status}`).toEqual(before);
    expect(s.store.size()).toBe(size);
  }
  return response.status;
}

describe("bad input", () => {
  it("property: random methods, paths, headers and bodies never answer 5xx, and refusals change nothing", async () => {
    const s = setup();
    await s.seed();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (raw) => {
        const status = await sendChecked(s, raw);
        if (status !== undefined) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
      { numRuns: 600 },
    );
    // The generator reaches deep enough to be refused for many different reasons.
    if (process.env.PAYLINK_SHOW_STATUSES) console.log([...statuses].sort((x, y) => x[0] - y[0]));
    for (const status of [400, 401, 404, 405, 415]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
  });

  it("property: with webhooks and events served too, nothing answers 5xx and no refusal stores an endpoint", async () => {
    const s = setupDelivery();
    await s.seed();
    const scopes = [
      SCOPE,
      { accountId: "acct_test", livemode: true },
      { accountId: "acct_other", livemode: false },
    ];
    const endpoints = async () =>
      (await Promise.all(scopes.map((scope) => s.store.listEndpoints(scope)))).flat();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (raw) => {
        const before = await endpoints();
        const status = await sendChecked(s, raw);
        if (status === undefined) return;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const created =
          raw.method === "POST" && /^\/webhook_endpoints(\?|$)/.test(raw.path) && status === 200;
        if (!created) expect(await endpoints(), `${raw.method} ${raw.path} ${status}`).toEqual(before);
      }),
      { numRuns: 400 },
    );
    for (const status of [400, 401, 404, 405]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
  });

  const ids = [
    "%00",
    "pay_0001%00",
    "x".repeat(5000),
    "1'%20OR%20'1'='1",
    "1;DROP%20TABLE%20payments;--",
    "%E0%A4%A",
    "%F0%9F%92%B3",
    "..%2F..%2Fetc",
  ];
  it.each(ids)("id %s answers 404 in both dialects, with the store untouched", async (id) => {
    const s = setup();
    await s.seed();
    for (const [method, path, headers] of [
      ["POST", `/payments/${id}/cancel`, { "x-api-key": KEYS.rw }],
      ["GET", `/payments/${id}`, { "x-api-key": KEYS.rw }],
      ["POST", `/v1/payment-links/${id}/cancellation`, { authorization: `Bearer ${KEYS.rw}` }],
      ["GET", `/v1/payment-links/${id}`, { authorization: `Bearer ${KEYS.rw}` }],
    ] as const) {
      const status = await sendChecked(s, {
        method,
        path,
        headers: Object.entries(headers),
        body: undefined,
      });
      expect(status).toBe(404);
    }
  });

  it("oversize bodies answer 413 (declared or streamed) in the dialect's format", async () => {
    const s = setup();
    const big = JSON.stringify({ description: "x".repeat(70_000) });
    const a = await s.send("POST", "/payments", { json: JSON.parse(big) });
    expect(a.status).toBe(413);
    expect(((await a.json()) as { error: { code: string } }).error.code).toBe("body_too_large");
    const b = await s.send("POST", "/v1/payment-links", {
      key: null,
      bearer: KEYS.rw,
      json: JSON.parse(big),
    });
    expect(b.status).toBe(413);
    expect(await b.json()).toEqual({ code: "body_too_large", message: expect.any(String) });
    // A chunked body with no Content-Length is counted while read.
    const chunks = 40;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < chunks; i++) controller.enqueue(new TextEncoder().encode("x".repeat(4096)));
        controller.close();
      },
    });
    const streamed = await s.app.fetch(
      new Request(`${BASE}/payments`, {
        method: "POST",
        headers: { "x-api-key": KEYS.rw, "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    // A smaller limit is configurable.
    const small = setup({ bodyLimitBytes: 10 });
    expect((await small.send("POST", "/payments", { json: { customerId: "a-long-id" } })).status).toBe(413);
    expect(await s.events()).toEqual([]);
  });

  it("deep nesting, invalid UTF-8 and a bad Content-Length are 400", async () => {
    const s = setup();
    const deep = await s.send("POST", "/payments", {
      body: `${"[".repeat(20_000)}${"]".repeat(20_000)}`,
      headers: { "content-type": "application/json" },
    });
    expect(deep.status).toBe(400);
    const bytes = await s.app.fetch(
      new Request(`${BASE}/payments`, {
        method: "POST",
        headers: { "x-api-key": KEYS.rw, "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      }),
    );
    expect(bytes.status).toBe(400);
    expect(((await bytes.json()) as { error: { code: string } }).error.code).toBe("body_invalid");
  });

  it("a throwing authenticate is a bodyless 500 internal_error, reported to onError", async () => {
    const reported: unknown[] = [];
    const s = setup({
      authenticate: async () => {
        throw new Error("ECONNREFUSED auth-db.internal:5432");
      },
      onError: (error) => reported.push(error),
    });
    const response = await s.send("GET", "/payments/pay_1");
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain("ECONNREFUSED");
    expect(JSON.parse(text).error).toMatchObject({
      type: "api_error",
      code: "internal_error",
      param: null,
      details: null,
    });
    expect(reported).toHaveLength(1);
  });

  it("a store failing on reads is 503 store_unavailable in both dialects, never the driver's message", async () => {
    const store = createMemoryStore();
    const broken: MemoryStore = {
      ...store,
      get: async () => {
        throw new Error("pg: password authentication failed for user paylink");
      },
    };
    const reported: unknown[] = [];
    const s = setup({
      links: createPaymentLinks({ store: broken }),
      onError: (error) => reported.push(error),
    });
    for (const response of [
      await s.send("GET", "/payments/pay_1"),
      await s.send("POST", "/payments/pay_1/cancel"),
      await s.send("GET", "/v1/payment-links/pay_1", { key: null, bearer: KEYS.rw }),
    ]) {
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(await response.text()).not.toMatch(/password|pg:/);
    }
    // The cause goes to onError (the server's logs), once per failed request.
    expect(reported).toHaveLength(3);
    expect(String(reported[0])).toContain("password authentication failed");
  });
});
