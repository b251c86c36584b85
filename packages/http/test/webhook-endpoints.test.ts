/**
 * `/webhook_endpoints…` in the payments API's dialect: register, list, get, delete, the deliveries of an
 * endpoint and the retry of a dead one. Scopes are isolated as payments are (another account's or mode's
 * endpoint is 404), the secret is shown once, and every bad input is a 4xx that stores nothing.
 */
import { createWebhookEndpoints, DEFAULT_RETRY_SCHEDULE_MS, WEBHOOK_EVENT_TYPES } from "@paylink/webhooks";
import { describe, expect, it } from "vitest";
import {
  CreatedWebhookEndpointEnvelopeA,
  EVENT_TYPES,
  WebhookDeliveryEnvelopeA,
  WebhookDeliveryListA,
  WebhookEndpointEnvelopeA,
  WebhookEndpointListA,
} from "../src/webhook-schemas.js";
import { DOCS, ERROR_A_KEYS, KEYS, SCOPE, type Setup, setup } from "./helpers.js";
import {
  killDueDeliveries,
  queueDeliveries,
  resolveHost,
  setupDelivery,
  storedFor,
} from "./webhook-setup.js";

const ENDPOINT_KEYS = [
  "id",
  "object",
  "url",
  "events",
  "status",
  "disabledReason",
  "failingSince",
  "livemode",
  "createdAt",
];
const DELIVERY_KEYS = [
  "id",
  "object",
  "endpointId",
  "eventId",
  "eventType",
  "status",
  "attempts",
  "lastStatusCode",
  "lastError",
  "nextAttemptAt",
  "livemode",
  "createdAt",
  "updatedAt",
];
const OTHER = { accountId: "acct_other", livemode: false };
const LIVE = { accountId: "acct_test", livemode: true };

type Json = Record<string, unknown>;

async function expectError(response: Response, status: number, code: string, param?: string | null) {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as { success: boolean; error: Json };
  expect(Object.keys(body)).toEqual(["success", "error"]);
  expect(Object.keys(body.error)).toEqual(ERROR_A_KEYS);
  expect(body.error.code).toBe(code);
  expect(body.error.doc_url).toBe(`${DOCS}/docs/errors.md#${code}`);
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

async function create(s: Setup, json: unknown, key: string = KEYS.rw) {
  const response = await s.send("POST", "/webhook_endpoints", { json, key });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const body = JSON.parse(text) as { data: Json & { id: string; secret: string } };
  expect(CreatedWebhookEndpointEnvelopeA.safeParse(body).success).toBe(true);
  return body.data;
}

describe("POST /webhook_endpoints", () => {
  it("registers an endpoint in the key's scope: 200, the endpoint with its whsec_ secret, stored", async () => {
    const s = setupDelivery();
    const data = await create(s, { url: "https://hooks.example.com/in?x=1" });
    expect(Object.keys(data)).toEqual([...ENDPOINT_KEYS, "secret"]);
    expect(data).toMatchObject({
      object: "webhook_endpoint",
      url: "https://hooks.example.com/in?x=1",
      events: null,
      status: "enabled",
      disabledReason: null,
      failingSince: null,
      livemode: false,
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    expect(data.id).toMatch(/^we_/);
    expect(data.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{20,}$/);
    const stored = await s.store.getEndpoint(SCOPE, data.id);
    expect(stored).toMatchObject({ url: data.url, secret: data.secret, accountId: "acct_test" });
  });

  it("keeps the event types asked for, and accepts an IPv6 host and `events: null`", async () => {
    const s = setupDelivery();
    const some = await create(s, {
      url: "https://hooks.example.com/a",
      events: ["payment_link.paid", "charge.paid"],
    });
    expect(some.events).toEqual(["payment_link.paid", "charge.paid"]);
    const all = await create(s, { url: "https://v6.example.com/b", events: null });
    expect(all.events).toBeNull();
    expect((await s.store.listEndpoints(SCOPE)).length).toBe(2);
  });

  it("documents the same event types as @paylink/webhooks accepts", () => {
    expect([...EVENT_TYPES].sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
  });

  it("shows the secret once: never in GET, the list or DELETE", async () => {
    const s = setupDelivery();
    const { id, secret } = await create(s, { url: "https://hooks.example.com/in" });
    const texts = [
      await (await s.send("GET", `/webhook_endpoints/${id}`)).text(),
      await (await s.send("GET", "/webhook_endpoints")).text(),
      await (await s.send("GET", `/webhook_endpoints/${id}/deliveries`)).text(),
      await (await s.send("DELETE", `/webhook_endpoints/${id}`)).text(),
    ];
    for (const text of texts) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain("secret");
    }
  });

  it("honours Idempotency-Key: a repeat replays the first response (one endpoint), another body is 422", async () => {
    const s = setupDelivery();
    const headers = { "Idempotency-Key": "endpoint-1" };
    const json = { url: "https://hooks.example.com/in" };
    const first = await s.send("POST", "/webhook_endpoints", { json, headers });
    const firstText = await first.text();
    expect(first.status).toBe(200);
    const again = await s.send("POST", "/webhook_endpoints", { json, headers });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(firstText);
    await expectError(
      await s.send("POST", "/webhook_endpoints", {
        json: { url: "https://hooks.example.com/other" },
        headers,
      }),
      422,
      "idempotency_key_reused",
      "Idempotency-Key",
    );
    expect(await s.store.listEndpoints(SCOPE)).toHaveLength(1);
  });

  it("a read-only key is 403 on every write, and nothing changes", async () => {
    const s = setupDelivery();
    const { id } = await create(s, { url: "https://hooks.example.com/in" });
    await expectError(
      await s.send("POST", "/webhook_endpoints", {
        json: { url: "https://hooks.example.com/x" },
        key: KEYS.ro,
      }),
      403,
      "key_not_permitted",
    );
    await expectError(
      await s.send("DELETE", `/webhook_endpoints/${id}`, { key: KEYS.ro }),
      403,
      "key_not_permitted",
    );
    expect((await s.send("GET", `/webhook_endpoints/${id}`, { key: KEYS.ro })).status).toBe(200);
    expect(await s.store.listEndpoints(SCOPE)).toHaveLength(1);
  });

  it("allows loopback only when the server allows it, and link-local never", async () => {
    const strict = setupDelivery();
    await expectError(
      await strict.send("POST", "/webhook_endpoints", { json: { url: "http://127.0.0.1:4000/hooks" } }),
      400,
      "parameter_invalid",
      "url",
    );
    const demo = setupDelivery({ allow: { loopback: true } });
    expect((await create(demo, { url: "http://127.0.0.1:4000/hooks" })).url).toBe(
      "http://127.0.0.1:4000/hooks",
    );
    expect((await create(demo, { url: "http://localhost:4000/hooks" })).url).toBe(
      "http://localhost:4000/hooks",
    );
    for (const url of ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data", "http://[fe80::1]/"]) {
      await expectError(
        await demo.send("POST", "/webhook_endpoints", { json: { url } }),
        400,
        "parameter_invalid",
        "url",
      );
    }
    expect(await demo.store.listEndpoints(SCOPE)).toHaveLength(2);
  });
});

describe("GET, list and DELETE /webhook_endpoints", () => {
  it("lists the scope's endpoints oldest first, in one page, and gets one", async () => {
    const s = setupDelivery();
    const a = await create(s, { url: "https://hooks.example.com/a" });
    s.clock.advance(1000);
    const b = await create(s, { url: "https://hooks.example.com/b", events: ["payment_link.canceled"] });
    await create(s, { url: "https://hooks.example.com/other" }, KEYS.other);
    await create(s, { url: "https://hooks.example.com/live" }, KEYS.live);
    const list = (await (await s.send("GET", "/webhook_endpoints")).json()) as {
      data: Json[];
      has_more: boolean;
    };
    expect(WebhookEndpointListA.safeParse(list).success).toBe(true);
    expect(list.data.map((e) => e.id)).toEqual([a.id, b.id]);
    expect(list.has_more).toBe(false);
    for (const endpoint of list.data) expect(Object.keys(endpoint)).toEqual(ENDPOINT_KEYS);
    const got = (await (await s.send("GET", `/webhook_endpoints/${b.id}`)).json()) as { data: Json };
    expect(WebhookEndpointEnvelopeA.safeParse(got).success).toBe(true);
    const { secret: _, ...shown } = b;
    expect(got.data).toEqual(shown);
  });

  it("another account's or mode's endpoint is 404 resource_missing for every route, and stays", async () => {
    const s = setupDelivery();
    await s.seed();
    const { id } = await create(s, { url: "https://hooks.example.com/in" });
    await queueDeliveries(s);
    const [dead] = await killDueDeliveries(s);
    for (const key of [KEYS.other, KEYS.live]) {
      await expectError(
        await s.send("GET", `/webhook_endpoints/${id}`, { key }),
        404,
        "resource_missing",
        "id",
      );
      await expectError(
        await s.send("DELETE", `/webhook_endpoints/${id}`, { key }),
        404,
        "resource_missing",
        "id",
      );
      await expectError(
        await s.send("GET", `/webhook_endpoints/${id}/deliveries`, { key }),
        404,
        "resource_missing",
        "id",
      );
      await expectError(
        await s.send("POST", `/webhook_endpoints/${id}/deliveries/${dead!.id}/retry`, { key }),
        404,
        "resource_missing",
        "deliveryId",
      );
      const list = (await (await s.send("GET", "/webhook_endpoints", { key })).json()) as { data: unknown[] };
      expect(list.data).toEqual([]);
    }
    expect(await s.store.getEndpoint(SCOPE, id)).toBeDefined();
    expect((await s.store.getDelivery(SCOPE, dead!.id))?.status).toBe("dead");
    expect(await storedFor(s, OTHER)).toEqual({ endpoints: [], deliveries: [] });
    expect(await storedFor(s, LIVE)).toEqual({ endpoints: [], deliveries: [] });
  });

  it("DELETE answers the endpoint without its secret, removes it and its deliveries; again is 404", async () => {
    const s = setupDelivery();
    await s.seed();
    const created = await create(s, { url: "https://hooks.example.com/in" });
    const kept = await create(s, { url: "https://hooks.example.com/kept" });
    await queueDeliveries(s);
    expect((await storedFor(s, SCOPE)).deliveries.length).toBeGreaterThan(0);
    const response = await s.send("DELETE", `/webhook_endpoints/${created.id}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: Json };
    expect(WebhookEndpointEnvelopeA.safeParse(body).success).toBe(true);
    const { secret: _, ...shown } = created;
    expect(body.data).toEqual(shown);
    await expectError(await s.send("GET", `/webhook_endpoints/${created.id}`), 404, "resource_missing", "id");
    await expectError(
      await s.send("DELETE", `/webhook_endpoints/${created.id}`),
      404,
      "resource_missing",
      "id",
    );
    const left = await storedFor(s, SCOPE);
    expect(left.endpoints.map((e) => e.id)).toEqual([kept.id]);
    expect(left.deliveries.every((d) => d.endpointId === kept.id)).toBe(true);
  });

  it("ids outside the id pattern are 404 without a lookup", async () => {
    const s = setupDelivery();
    for (const id of ["%00", "x".repeat(300), "..%2F..%2Fetc", "we_1%20OR%201=1"]) {
      await expectError(await s.send("GET", `/webhook_endpoints/${id}`), 404, "resource_missing", "id");
      await expectError(
        await s.send("POST", `/webhook_endpoints/we_1/deliveries/${id}/retry`),
        404,
        "resource_missing",
      );
    }
  });
});

describe("GET /webhook_endpoints/{id}/deliveries", () => {
  /** An endpoint with one delivery per event of `payments` new links (one `created` event each). */
  async function withDeliveries(payments: number) {
    const s = setupDelivery();
    const endpoint = await create(s, { url: "https://hooks.example.com/in" });
    for (let i = 0; i < payments; i++) {
      s.clock.advance(1);
      await s.links.create(SCOPE, {
        customerId: `cus_${i}`,
        provider: "stripe",
        amountSubtotal: 100,
        currency: "GBP",
        expiresAt: new Date(s.clock.now().getTime() + 86_400_000),
      });
    }
    await queueDeliveries(s);
    return { s, endpoint };
  }
  type Page = { data: (Json & { id: string })[]; has_more: boolean };
  const page = async (s: Setup, path: string) => {
    const response = await s.send("GET", path);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const body = JSON.parse(text) as Page;
    expect(WebhookDeliveryListA.safeParse(body).success).toBe(true);
    return body;
  };

  it("pages newest first with has_more and starting_after, each delivery with its state", async () => {
    const { s, endpoint } = await withDeliveries(5);
    const stored = await s.store.listDeliveries(SCOPE, endpoint.id, { limit: 100 });
    expect(stored).toHaveLength(5);
    const base = `/webhook_endpoints/${endpoint.id}/deliveries`;
    const first = await page(s, `${base}?limit=2`);
    expect(first.has_more).toBe(true);
    expect(first.data.map((d) => d.id)).toEqual(stored.slice(0, 2).map((d) => d.id));
    expect(Object.keys(first.data[0]!)).toEqual(DELIVERY_KEYS);
    const newest = ((await s.events()) as { event: { id: string } }[]).at(-1)!.event;
    expect(first.data[0]).toEqual({
      id: stored[0]!.id,
      object: "webhook_delivery",
      endpointId: endpoint.id,
      eventId: newest.id,
      eventType: "payment_link.created",
      status: "pending",
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      nextAttemptAt: s.clock.now().toISOString(),
      livemode: false,
      createdAt: s.clock.now().toISOString(),
      updatedAt: s.clock.now().toISOString(),
    });
    const second = await page(s, `${base}?limit=2&starting_after=${first.data[1]!.id}`);
    expect(second.data.map((d) => d.id)).toEqual(stored.slice(2, 4).map((d) => d.id));
    expect(second.has_more).toBe(true);
    const third = await page(s, `${base}?limit=2&starting_after=${second.data[1]!.id}`);
    expect(third.data.map((d) => d.id)).toEqual([stored[4]!.id]);
    expect(third.has_more).toBe(false);
    // A page that holds exactly the rest has nothing more; an unknown cursor is an empty page.
    expect((await page(s, `${base}?limit=5`)).has_more).toBe(false);
    expect((await page(s, `${base}?limit=4`)).has_more).toBe(true);
    expect(await page(s, `${base}?starting_after=whd_unknown`)).toEqual({
      success: true,
      data: [],
      has_more: false,
    });
    expect((await page(s, base)).data).toHaveLength(5);
  });

  it("a full page of 100 asks once more to tell has_more", async () => {
    const { s, endpoint } = await withDeliveries(101);
    const base = `/webhook_endpoints/${endpoint.id}/deliveries`;
    const first = await page(s, `${base}?limit=100`);
    expect(first.data).toHaveLength(100);
    expect(first.has_more).toBe(true);
    const rest = await page(s, `${base}?limit=100&starting_after=${first.data[99]!.id}`);
    expect(rest.data).toHaveLength(1);
    expect(rest.has_more).toBe(false);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=abc", "limit"],
    ["limit=2.5", "limit"],
    ["limit=1&limit=2", "limit"],
    ["starting_after=", "starting_after"],
    [`starting_after=${"x".repeat(256)}`, "starting_after"],
    ["status=dead", "status"],
  ])("?%s is 400 parameter_invalid (param %s)", async (query, param) => {
    const { s, endpoint } = await withDeliveries(1);
    await expectError(
      await s.send("GET", `/webhook_endpoints/${endpoint.id}/deliveries?${query}`),
      400,
      "parameter_invalid",
      param,
    );
  });

  it("an unknown endpoint is 404", async () => {
    const s = setupDelivery();
    await expectError(
      await s.send("GET", "/webhook_endpoints/we_nope/deliveries"),
      404,
      "resource_missing",
      "id",
    );
  });
});

describe("POST /webhook_endpoints/{id}/deliveries/{deliveryId}/retry", () => {
  async function withDead() {
    const s = setupDelivery();
    await s.seed();
    const endpoint = await create(s, { url: "https://hooks.example.com/in" });
    await queueDeliveries(s);
    const [dead] = await killDueDeliveries(s);
    return { s, endpoint, dead: dead! };
  }

  it("makes a dead delivery pending again, due now, keeping its attempts", async () => {
    const { s, endpoint, dead } = await withDead();
    const listed = (await (
      await s.send("GET", `/webhook_endpoints/${endpoint.id}/deliveries?limit=100`)
    ).json()) as {
      data: Json[];
    };
    expect(listed.data.find((d) => d.id === dead.id)).toMatchObject({
      status: "dead",
      attempts: DEFAULT_RETRY_SCHEDULE_MS.length + 1,
      lastStatusCode: 500,
      lastError: "HTTP 500",
      nextAttemptAt: null,
    });
    s.clock.advance(60_000);
    const response = await s.send("POST", `/webhook_endpoints/${endpoint.id}/deliveries/${dead.id}/retry`);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const body = JSON.parse(text) as { data: Json };
    expect(WebhookDeliveryEnvelopeA.safeParse(body).success).toBe(true);
    expect(body.data).toMatchObject({
      id: dead.id,
      endpointId: endpoint.id,
      status: "pending",
      attempts: DEFAULT_RETRY_SCHEDULE_MS.length + 1,
      nextAttemptAt: s.clock.now().toISOString(),
    });
    expect((await s.store.getDelivery(SCOPE, dead.id))?.status).toBe("pending");
    // It is not dead any more: a second retry is refused, and changes nothing.
    await expectError(
      await s.send("POST", `/webhook_endpoints/${endpoint.id}/deliveries/${dead.id}/retry`),
      400,
      "parameter_invalid",
      "deliveryId",
    );
    expect((await s.store.getDelivery(SCOPE, dead.id))?.attempts).toBe(DEFAULT_RETRY_SCHEDULE_MS.length + 1);
  });

  it("replays with the same Idempotency-Key instead of refusing the second retry", async () => {
    const { s, endpoint, dead } = await withDead();
    const path = `/webhook_endpoints/${endpoint.id}/deliveries/${dead.id}/retry`;
    const headers = { "Idempotency-Key": "retry-1" };
    const first = await s.send("POST", path, { headers });
    expect(first.status).toBe(200);
    const again = await s.send("POST", path, { headers });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await first.text());
  });

  it("a pending delivery, an unknown one, or one of another endpoint is refused and stays as it was", async () => {
    const { s, endpoint, dead } = await withDead();
    const other = await create(s, { url: "https://hooks.example.com/other" });
    const pending = (await s.store.listDeliveries(SCOPE, endpoint.id, { limit: 100 })).find(
      (d) => d.status === "pending",
    )!;
    const retry = (endpointId: string, deliveryId: string, json?: unknown) =>
      s.send("POST", `/webhook_endpoints/${endpointId}/deliveries/${deliveryId}/retry`, { json });
    await expectError(await retry(endpoint.id, pending.id), 400, "parameter_invalid", "deliveryId");
    await expectError(await retry(endpoint.id, "whd_nope"), 404, "resource_missing", "deliveryId");
    await expectError(await retry(other.id, dead.id), 404, "resource_missing", "deliveryId");
    await expectError(await retry(endpoint.id, dead.id, { now: true }), 400, "parameter_invalid", "now");
    expect((await s.store.getDelivery(SCOPE, dead.id))?.status).toBe("dead");
    expect((await s.store.getDelivery(SCOPE, pending.id))?.status).toBe("pending");
  });
});

describe("a failing store", () => {
  it("is 503 store_unavailable with Retry-After, never the driver's message; the cause goes to onError", async () => {
    const reported: unknown[] = [];
    const s = setup((store, clock) => {
      const broken = {
        ...store,
        insertEndpoint: async () => {
          throw new Error("SQLITE_FULL: database or disk is full");
        },
        listEndpoints: async () => {
          throw new Error("pg: password authentication failed for user paylink");
        },
      };
      return {
        webhooks: createWebhookEndpoints({ store: broken, clock, resolveHost }),
        onError: (error: unknown) => reported.push(error),
      };
    });
    for (const response of [
      await s.send("POST", "/webhook_endpoints", { json: { url: "https://hooks.example.com/in" } }),
      await s.send("GET", "/webhook_endpoints"),
    ]) {
      const text = await response.text();
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(JSON.parse(text).error.code).toBe("store_unavailable");
      expect(text).not.toMatch(/SQLITE|password|pg:|disk/);
    }
    expect(reported.map(String)).toEqual([
      expect.stringContaining("SQLITE_FULL"),
      expect.stringContaining("password authentication failed"),
    ]);
  });
});

describe("bad input to POST /webhook_endpoints: a clear 4xx, and nothing stored", () => {
  /** Sends one request and checks the refusal, then that no scope holds an endpoint or a delivery. */
  async function refused(
    init: { json?: unknown; body?: string; headers?: Record<string, string> },
    status: number,
    code: string,
    param?: string | null,
  ) {
    const s = setupDelivery();
    await s.seed();
    const error = await expectError(await s.send("POST", "/webhook_endpoints", init), status, code, param);
    await queueDeliveries(s);
    for (const scope of [SCOPE, OTHER, LIVE]) {
      expect(await storedFor(s, scope)).toEqual({ endpoints: [], deliveries: [] });
    }
    return error;
  }

  const badUrls: [string, unknown][] = [
    ["missing", undefined],
    ["a number", 42],
    ["an object", { href: "https://hooks.example.com/" }],
    ["empty", ""],
    ["not a URL", "not a url"],
    ["relative", "/hooks/paylink"],
    ["scheme-relative", "//hooks.example.com/in"],
    ["javascript:", "javascript:alert(document.cookie)"],
    ["JAVASCRIPT: upper case", "JAVASCRIPT:alert(1)"],
    ["file:", "file:///etc/passwd"],
    ["ftp:", "ftp://hooks.example.com/in"],
    ["data:", "data:text/plain,hello"],
    ["gopher:", "gopher://hooks.example.com:70/_POST"],
    ["ws:", "ws://hooks.example.com/socket"],
    ["mailto:", "mailto:ops@hooks.example.com"],
    ["user and password", "https://user:pass@hooks.example.com/in"],
    ["user only", "https://user@hooks.example.com/in"],
    ["loopback IPv4", "http://127.0.0.1:8080/in"],
    ["loopback 127/8", "http://127.10.0.1/in"],
    ["loopback IPv6", "http://[::1]/in"],
    ["loopback as IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]/in"],
    ["loopback as a decimal integer", "http://2130706433/in"],
    ["loopback in hex", "http://0x7f.0.0.1/in"],
    ["localhost", "http://localhost:3000/in"],
    ["private 10/8", "http://10.0.0.5/admin"],
    ["private 172.16/12", "http://172.20.1.1/in"],
    ["private 192.168/16", "http://192.168.0.10/in"],
    ["carrier-grade NAT", "http://cgnat.example.com/in"],
    ["unique local IPv6", "http://[fd00::1]/in"],
    ["link-local: cloud metadata", "http://169.254.169.254/latest/meta-data/"],
    ["link-local IPv6", "http://[fe80::1]/in"],
    ["unspecified", "http://0.0.0.0/in"],
    ["a name resolving to a private address", "https://internal.example.com/in"],
    ["a name resolving to link-local", "https://metadata.example.com/in"],
    ["a name resolving to public and private addresses", "https://half-private.example.com/in"],
    ["a name resolving to nothing", "https://empty.example.com/in"],
    ["a name that does not resolve", "https://nxdomain.invalid/in"],
    ["too long", `https://hooks.example.com/${"a".repeat(2048)}`],
  ];
  it.each(badUrls)("url %s is 400 parameter_invalid (param url)", async (_, url) => {
    await refused({ json: url === undefined ? {} : { url } }, 400, "parameter_invalid", "url");
  });

  const badEvents: [string, unknown, string][] = [
    ["a string, not a list", "payment_link.paid", "events"],
    ["an object", { "payment_link.paid": true }, "events"],
    ["a number", 1, "events"],
    ["an empty list", [], "events"],
    ["an unknown type", ["payment_link.refund_created"], "events.0"],
    ["a type of no kind", ["paid"], "events.0"],
    ["a wildcard", ["*"], "events.0"],
    ["an unknown type after a known one", ["payment_link.paid", "nope"], "events.1"],
    ["a type twice", ["payment_link.paid", "payment_link.paid"], "events.1"],
    ["a number in the list", [1], "events.0"],
    ["null in the list", [null], "events.0"],
  ];
  it.each(badEvents)("events as %s is 400 parameter_invalid", async (_, events, param) => {
    await refused({ json: { url: "https://hooks.example.com/in", events } }, 400, "parameter_invalid", param);
  });

  it("an unknown field is 400, naming it", async () => {
    await refused(
      { json: { url: "https://hooks.example.com/in", secret: "whsec_mine" } },
      400,
      "parameter_invalid",
      "secret",
    );
  });

  it("a body that is not a JSON object, or none, is 400 body_invalid", async () => {
    const json = { "content-type": "application/json" };
    await refused({ json: ["https://hooks.example.com/in"] }, 400, "body_invalid");
    await refused({ json: "https://hooks.example.com/in" }, 400, "body_invalid");
    await refused({}, 400, "body_invalid");
    await refused({ body: "{url: 'https://hooks.example.com/in'}", headers: json }, 400, "body_invalid");
    await refused(
      { body: '{"url": "https://hooks.example.com/in", "url": "http://10.0.0.1/"}', headers: json },
      400,
      "body_invalid",
    );
  });

  it("a body that is not application/json is 415", async () => {
    await refused(
      {
        body: "url=https://hooks.example.com/in",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
      415,
      "content_type_unsupported",
    );
  });

  it("a body over the app's limit is 413 body_too_large", async () => {
    await refused(
      { json: { url: `https://hooks.example.com/${"a".repeat(70_000)}` } },
      413,
      "body_too_large",
    );
  });

  it("property: any non-http(s) scheme, and any loopback, private or link-local IPv4 host, is refused", async () => {
    const fc = (await import("fast-check")).default;
    const s = setupDelivery();
    const octet = fc.integer({ min: 0, max: 255 });
    const privateHost = fc.oneof(
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `127.${b}.${c}.${d}`),
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `10.${b}.${c}.${d}`),
      fc.tuple(fc.integer({ min: 16, max: 31 }), octet, octet).map(([b, c, d]) => `172.${b}.${c}.${d}`),
      fc.tuple(octet, octet).map(([c, d]) => `192.168.${c}.${d}`),
      fc.tuple(octet, octet).map(([c, d]) => `169.254.${c}.${d}`),
      fc.tuple(fc.integer({ min: 64, max: 127 }), octet, octet).map(([b, c, d]) => `100.${b}.${c}.${d}`),
    );
    const scheme = fc
      .stringMatching(/^[a-z][a-z0-9+.-]{0,9}$/)
      .filter((name) => name !== "http" && name !== "https");
    const url = fc.oneof(
      fc
        .tuple(fc.constantFrom("http", "https"), privateHost, fc.webPath())
        .map(([sc, host, path]) => `${sc}://${host}${path}`),
      fc.tuple(scheme, fc.webPath()).map(([sc, path]) => `${sc}://hooks.example.com${path}`),
      fc.tuple(scheme, fc.webPath()).map(([sc, path]) => `${sc}:${path}`),
    );
    await fc.assert(
      fc.asyncProperty(url, async (candidate) => {
        const response = await s.send("POST", "/webhook_endpoints", { json: { url: candidate } });
        expect(response.status, candidate).toBe(400);
        const body = (await response.json()) as { error: { code: string; param: string } };
        expect(body.error, candidate).toMatchObject({ code: "parameter_invalid", param: "url" });
      }),
      { numRuns: 300 },
    );
    expect(await s.store.listEndpoints(SCOPE)).toEqual([]);
  });
});
