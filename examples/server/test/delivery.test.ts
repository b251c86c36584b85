import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { until } from "../../../test/fixtures/waiting.js";
import { parseRetrySchedule } from "../delivery.js";
import { INBOX_PATH } from "../receiver.js";
import { type DemoServer, startDemoServer } from "../server.js";

const dir = mkdtempSync(join(tmpdir(), "paylink-demo-delivery-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEY = { "x-api-key": "sk_test_demo" };
const JSON_KEY = { ...KEY, "content-type": "application/json" };

const data = <T>(body: unknown) => ((body as { data?: T }).data ?? body) as T;

/** Rows of the receiver page: `[webhook-id, type, verified, arrival]`. */
async function receivedRows(demo: DemoServer) {
  const page = await (await fetch(`${demo.url}/demo/webhooks`)).text();
  return [...page.matchAll(/<tr data-webhook-id="([^"]*)" data-verified="(yes|no)">([\s\S]*?)<\/tr>/g)].map(
    ([, id, verified, cells]) => ({
      id: id!,
      verified: verified === "yes",
      type: /<td class="mono">([a-z_.]+)<\/td>/.exec(cells!)?.[1],
      arrival: Number(/\(arrival (\d+)\)/.exec(cells!)?.[1] ?? 1),
    }),
  );
}

describe("the demo delivers events", { timeout: 30_000 }, () => {
  let demo: DemoServer;
  afterAll(() => demo?.close());

  it("prints a curl line that registers the receiver page; a cancel then arrives there, signed and verified", async () => {
    demo = await startDemoServer({
      port: 0,
      dbFile: join(dir, "demo.db"),
      log: () => {},
      retryScheduleMs: [100, 100, 100],
      deliveryPollMs: 100,
    });
    const line = demo.banner.find((l) => l.includes("/webhook_endpoints"));
    expect(line?.trim()).toBe(demo.registerCurl);
    expect(demo.registerCurl).toContain(`"url":"${demo.url}${INBOX_PATH}"`);
    // What the curl line sends.
    const created = await fetch(`${demo.url}/webhook_endpoints`, {
      method: "POST",
      headers: JSON_KEY,
      body: JSON.stringify({ url: `${demo.url}${INBOX_PATH}` }),
    });
    expect(created.status).toBeLessThan(300);
    const endpoint = data<{ id: string; secret: string }>(await created.json());
    expect(endpoint.secret).toMatch(/^whsec_/);

    const canceled = await fetch(`${demo.url}/payments/pay_demo_pending/cancel`, {
      method: "POST",
      headers: KEY,
    });
    expect(canceled.status).toBe(200);
    const rows = await until("the canceled event on /demo/webhooks", async () => {
      const rows = await receivedRows(demo);
      return rows.some((r) => r.type === "payment_link.canceled") ? rows : undefined;
    });
    const row = rows.find((r) => r.type === "payment_link.canceled")!;
    expect(row.verified).toBe(true);

    // The same event in GET /events, by id: the webhook-id is the event's id.
    const events = data<Array<{ id: string; type: string; paymentId: string }>>(
      await (await fetch(`${demo.url}/events?limit=100`, { headers: KEY })).json(),
    );
    const event = events.find(
      (e) => e.type === "payment_link.canceled" && e.paymentId === "pay_demo_pending",
    );
    expect(event?.id).toBe(row.id);

    // The merchant's events page: the event, the endpoint's delivery succeeded, the relay caught up.
    const merchant = await (await fetch(`${demo.url}/merchant/events?payment=pay_demo_pending`)).text();
    expect(merchant).toContain(`data-event="${row.id}"`);
    await until("the delivery to show as succeeded", async () => {
      const page = await (await fetch(`${demo.url}/merchant/events`)).text();
      return page.includes('data-status="succeeded"') ? true : undefined;
    });
    const lag = await demo.delivery.relay.lag();
    expect(lag.map((l) => l.sink)).toEqual(["webhooks"]);
    expect(lag.every((l) => l.events === 0)).toBe(true);
    // The merchant page shows the same reading.
    const home = await (await fetch(`${demo.url}/`)).text();
    expect(home).toMatch(/<span data-sink="webhooks">webhooks caught up<\/span>/);
  });

  it("a receiver that fails is retried on PAYLINK_WEBHOOK_RETRIES_MS; the retry carries the same webhook-id", async () => {
    const form = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" } };
    expect(
      (await fetch(`${demo.url}/demo/webhooks/answer`, { ...form, body: "answer=500", redirect: "manual" }))
        .status,
    ).toBe(303);
    const created = await fetch(`${demo.url}/payments`, {
      method: "POST",
      headers: JSON_KEY,
      body: JSON.stringify({
        kind: "link",
        customerId: "cus_demo",
        provider: "stripe",
        amountSubtotal: 500,
        taxAmount: 0,
        currency: "GBP",
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    });
    expect(created.status, await created.clone().text()).toBeLessThan(300);
    const id = data<{ id: string }>(await created.json()).id;
    const before = new Set((await receivedRows(demo)).map((r) => r.id));
    await fetch(`${demo.url}/payments/${id}/cancel`, { method: "POST", headers: KEY });
    const failing = await until("a second, failed arrival of the new cancel", async () => {
      const rows = (await receivedRows(demo)).filter(
        (r) => r.type === "payment_link.canceled" && !before.has(r.id),
      );
      return rows.some((r) => r.arrival >= 2) ? rows : undefined;
    });
    const retried = failing.find((r) => r.arrival >= 2)!;
    await fetch(`${demo.url}/demo/webhooks/answer`, { ...form, body: "answer=200", redirect: "manual" });
    await until("the delivery to succeed after the receiver recovers", async () => {
      const page = await (await fetch(`${demo.url}/merchant/events`)).text();
      return /data-status="pending"/.test(page) ? undefined : true;
    });
    const arrivals = (await receivedRows(demo)).filter((r) => r.id === retried.id);
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals.every((r) => r.verified)).toBe(true);
  });
});

describe("the demo's inbox", { timeout: 30_000 }, () => {
  it("refuses a body past its limit, declared or streamed without a length, and records nothing unverified as a redelivery", async () => {
    const demo = await startDemoServer({ port: 0, dbFile: join(dir, "inbox.db"), log: () => {} });
    try {
      const big = "x".repeat(300 * 1024);
      const declared = await fetch(`${demo.url}${INBOX_PATH}`, { method: "POST", body: big });
      expect(declared.status).toBe(413);
      const chunk = new TextEncoder().encode("y".repeat(64 * 1024));
      const streamed = await fetch(`${demo.url}${INBOX_PATH}`, {
        method: "POST",
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < 5; i++) controller.enqueue(chunk);
            controller.close();
          },
        }),
        duplex: "half",
      } as RequestInit);
      expect(streamed.status).toBe(413);
      // An unsigned post is answered 400 and shown as not verified, each time as a first arrival.
      for (let i = 0; i < 2; i++) {
        const forged = await fetch(`${demo.url}${INBOX_PATH}`, {
          method: "POST",
          headers: { "webhook-id": "evt_forged" },
          body: "{}",
        });
        expect(forged.status).toBe(400);
      }
      const rows = (await receivedRows(demo)).filter((r) => r.id === "evt_forged");
      expect(rows.map((r) => [r.verified, r.arrival])).toEqual([
        [false, 1],
        [false, 1],
      ]);
    } finally {
      await demo.close();
    }
  });
});

describe("PAYLINK_WEBHOOK_RETRIES_MS", () => {
  it("reads comma-separated whole milliseconds; refuses anything else with the variable's name", () => {
    expect(parseRetrySchedule(undefined)).toBeUndefined();
    expect(parseRetrySchedule(" ")).toBeUndefined();
    expect(parseRetrySchedule("200, 400,800")).toEqual([200, 400, 800]);
    for (const bad of ["200,,400", "1e3", "-5", "0.5", "abc", Array(51).fill("1").join(",")])
      expect(() => parseRetrySchedule(bad), bad).toThrow(/PAYLINK_WEBHOOK_RETRIES_MS/);
  });
});

const NATS_URL = process.env.PAYLINK_NATS_URL || undefined;
if (NATS_URL === undefined && process.env.PAYLINK_REQUIRE_NATS === "1")
  throw new Error("PAYLINK_REQUIRE_NATS=1 but PAYLINK_NATS_URL is not set: the demo's NATS test cannot run");

describe.skipIf(NATS_URL === undefined)("the demo with PAYLINK_NATS_URL", { timeout: 30_000 }, () => {
  it("publishes each event to JetStream (stream PAYLINK, subject paylink.<type>, Nats-Msg-Id = event id)", async () => {
    const demo = await startDemoServer({
      port: 0,
      dbFile: join(dir, "nats.db"),
      log: () => {},
      natsUrl: NATS_URL!,
      deliveryPollMs: 100,
    });
    const connection = await connect({ servers: NATS_URL! });
    try {
      expect(demo.banner.join("\n")).toContain("sinks: webhooks, nats");
      expect(
        (await fetch(`${demo.url}/payments/pay_demo_viewed/cancel`, { method: "POST", headers: KEY })).status,
      ).toBe(200);
      const events = data<Array<{ id: string; type: string; paymentId: string }>>(
        await (await fetch(`${demo.url}/events?payment=pay_demo_viewed&limit=100`, { headers: KEY })).json(),
      );
      const canceled = events.find((e) => e.type === "payment_link.canceled");
      expect(canceled).toBeDefined();
      const manager = await jetstreamManager(connection);
      const message = await until("the cancel on the PAYLINK stream", async () => {
        const last = await manager.streams
          .getMessage("PAYLINK", { last_by_subj: "paylink.payment_link.canceled" })
          .catch(() => null);
        return last?.header?.get("Nats-Msg-Id") === canceled!.id ? last : undefined;
      });
      expect(message.json<{ id: string; paymentId: string }>()).toMatchObject({
        id: canceled!.id,
        paymentId: "pay_demo_viewed",
      });
    } finally {
      await connection.drain();
      await demo.close();
    }
  });
});
