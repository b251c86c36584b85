/**
 * `GET /events` in the payments API's dialect: the key's scope's domain events, oldest first, each the
 * JSON a webhook receives, paged like `GET /payments`. Other scopes' events are never shown.
 */
import type { DomainEvent } from "@paylink/core";
import { describe, expect, it } from "vitest";
import { EventListA } from "../src/webhook-schemas.js";
import { DOCS, ERROR_A_KEYS, KEYS, SCOPE, type Setup, setup } from "./helpers.js";
import { queueDeliveries, setupDelivery } from "./webhook-setup.js";

type Page = { success: true; data: DomainEvent[]; has_more: boolean };

async function page(s: Setup, query = "", key: string = KEYS.rw): Promise<{ body: Page; text: string }> {
  const response = await s.send("GET", `/events${query}`, { key });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const body = JSON.parse(text) as Page;
  expect(Object.keys(body)).toEqual(["success", "data", "has_more"]);
  expect(EventListA.safeParse(body).success, text.slice(0, 300)).toBe(true);
  return { body, text };
}

/** Every event the scope's key sees, walking the pages of `limit`. */
async function walk(s: Setup, limit: number, extra = "", key: string = KEYS.rw) {
  const seen: DomainEvent[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const cursor = after === undefined ? "" : `&starting_after=${after}`;
    const { body } = await page(s, `?limit=${limit}${extra}${cursor}`, key);
    seen.push(...body.data);
    if (!body.has_more) return { seen, pages: pages + 1 };
    expect(body.data).toHaveLength(limit);
    after = body.data.at(-1)!.id;
  }
  throw new Error("too many pages");
}

const outboxOf = async (s: Setup, scope = SCOPE) =>
  ((await s.events()) as { event: DomainEvent }[])
    .map((stored) => stored.event)
    .filter((event) => event.accountId === scope.accountId && event.livemode === scope.livemode);

describe("GET /events", () => {
  it("answers the scope's events oldest first, each exactly the webhook body (JSON.stringify of the event)", async () => {
    const s = setupDelivery();
    await s.seed();
    const events = await outboxOf(s);
    expect(events.length).toBeGreaterThan(10);
    const { body, text } = await page(s, "?limit=100");
    expect(body.has_more).toBe(false);
    expect(body.data).toEqual(events);
    // Byte for byte: the body holds each event as the webhook sink writes it.
    for (const event of events) expect(text).toContain(JSON.stringify(event));
  });

  it("carries the same JSON as the deliveries the webhook sink queues", async () => {
    const s = setupDelivery();
    const created = await s.send("POST", "/webhook_endpoints", {
      json: { url: "https://hooks.example.com/in" },
    });
    const endpointId = ((await created.json()) as { data: { id: string } }).data.id;
    await s.seed();
    await queueDeliveries(s);
    const deliveries = await s.store.listDeliveries(SCOPE, endpointId, { limit: 1000 });
    expect(deliveries.length).toBeGreaterThan(0);
    const { text } = await page(s, "?limit=100");
    for (const delivery of deliveries) expect(text).toContain(delivery.payload);
  });

  it("pages with limit, has_more and starting_after: every event once, in order", async () => {
    const s = setupDelivery();
    await s.seed();
    const events = await outboxOf(s);
    for (const limit of [1, 2, 3, events.length - 1, events.length, events.length + 1]) {
      const { seen, pages } = await walk(s, limit);
      expect(seen, `limit ${limit}`).toEqual(events);
      expect(pages, `limit ${limit}`).toBe(Math.max(1, Math.ceil(events.length / limit)));
    }
    // A page that holds exactly the rest has nothing more.
    expect((await page(s, `?limit=${events.length}`)).body.has_more).toBe(false);
    expect((await page(s, `?limit=${events.length - 1}`)).body.has_more).toBe(true);
    // The default page is 20.
    expect((await page(s)).body.data).toEqual(events.slice(0, 20));
  });

  it("`payment` keeps one payment's events, in order, and pages over them", async () => {
    const s = setupDelivery();
    const ids = await s.seed();
    const events = (await outboxOf(s)).filter((event) => event.paymentId === ids.paid);
    expect(events.map((e) => e.type)).toEqual([
      "payment_link.created",
      "payment_link.payment_started",
      "payment_link.paid",
    ]);
    expect((await page(s, `?payment=${ids.paid}`)).body.data).toEqual(events);
    expect((await walk(s, 1, `&payment=${ids.paid}`)).seen).toEqual(events);
    expect((await page(s, "?payment=pay_unknown")).body).toEqual({
      success: true,
      data: [],
      has_more: false,
    });
  });

  it("another account's or mode's events are never shown, and their ids are no cursor", async () => {
    const s = setupDelivery();
    await s.seed();
    const mine = await outboxOf(s);
    for (const key of [KEYS.other, KEYS.live]) {
      expect((await page(s, "?limit=100", key)).body).toEqual({ success: true, data: [], has_more: false });
      expect((await page(s, `?starting_after=${mine[0]!.id}`, key)).body.data).toEqual([]);
    }
    // The other account writes its own events: each key sees only its own.
    const other = { accountId: "acct_other", livemode: false };
    await s.links.create(other, {
      customerId: "cus_o",
      provider: "stripe",
      amountSubtotal: 100,
      currency: "GBP",
      expiresAt: new Date(s.clock.now().getTime() + 60_000),
    });
    const theirs = await outboxOf(s, other);
    expect(theirs).toHaveLength(1);
    expect((await page(s, "?limit=100", KEYS.other)).body.data).toEqual(theirs);
    expect((await page(s, "?limit=100")).body.data).toEqual(mine);
    expect((await page(s, `?starting_after=${theirs[0]!.id}`)).body.data).toEqual([]);
    expect((await page(s, `?payment=${theirs[0]!.paymentId}`)).body.data).toEqual([]);
    // An unknown cursor is an empty page too.
    expect((await page(s, "?starting_after=evt_unknown")).body.data).toEqual([]);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=-1", "limit"],
    ["limit=ten", "limit"],
    ["limit=1.5", "limit"],
    ["limit=", "limit"],
    ["limit=1&limit=2", "limit"],
    ["starting_after=", "starting_after"],
    [`starting_after=${"e".repeat(256)}`, "starting_after"],
    ["starting_after=a&starting_after=b", "starting_after"],
    ["payment=", "payment"],
    ["type=payment_link.paid", "type"],
  ])("?%s is 400 parameter_invalid (param %s)", async (query, param) => {
    const s = setupDelivery();
    const response = await s.send("GET", `/events?${query}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error)).toEqual(ERROR_A_KEYS);
    expect(body.error).toMatchObject({
      code: "parameter_invalid",
      param,
      doc_url: `${DOCS}/docs/errors.md#parameter_invalid`,
    });
  });

  it("needs a key, and a read-only key may read", async () => {
    const s = setupDelivery();
    expect((await s.send("GET", "/events", { key: null })).status).toBe(401);
    expect((await s.send("GET", "/events", { key: "sk_test_unknown" })).status).toBe(401);
    expect((await s.send("GET", "/events", { key: KEYS.ro })).status).toBe(200);
    expect((await s.send("POST", "/events", { json: {} })).status).toBe(405);
  });

  it("is not served without `events`: 404 route_missing", async () => {
    const s = setup();
    await s.seed();
    const response = await s.send("GET", "/events");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("route_missing");
  });

  it("a failing feed is 503 store_unavailable, never the driver's message; the cause goes to onError", async () => {
    const reported: unknown[] = [];
    const s = setup({
      events: {
        listEvents: async () => {
          throw new Error("pg: terminating connection due to administrator command at 10.0.0.3:5432");
        },
      },
      onError: (error) => reported.push(error),
    });
    const response = await s.send("GET", "/events");
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(JSON.parse(text).error.code).toBe("store_unavailable");
    expect(text).not.toMatch(/pg:|terminating|10\.0\.0\.3/);
    expect(reported.map(String)).toEqual([expect.stringContaining("administrator command")]);
  });
});
