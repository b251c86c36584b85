import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INBOX_PATH } from "../receiver.js";
import { type DemoServer, startDemoServer } from "../server.js";

// Two demo servers on one PostgreSQL database, as PAYLINK_PG_URL runs them. Each test run gets a new
// database (trust auth: the test creates and drops it), so the demo's own tables start empty.
const PG_URL = process.env.PAYLINK_PG_URL || undefined;
const REQUIRE_PG = process.env.PAYLINK_REQUIRE_PG === "1";
if (PG_URL === undefined && REQUIRE_PG)
  throw new Error("PAYLINK_REQUIRE_PG=1 but PAYLINK_PG_URL is not set: the PostgreSQL demo test cannot run");

const KEY = { "x-api-key": "sk_test_demo", "content-type": "application/json" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface EventJson {
  readonly id: string;
  readonly type: string;
  readonly paymentId: string;
}

/** Every event of the demo scope through `GET /events`, page by page (a small page, to page for real). */
async function allEvents(base: string): Promise<EventJson[]> {
  const out: EventJson[] = [];
  for (let after: string | undefined; ; ) {
    const query = new URLSearchParams({
      limit: "7",
      ...(after === undefined ? {} : { starting_after: after }),
    });
    const response = await fetch(`${base}/events?${query}`, { headers: KEY });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: EventJson[]; has_more?: boolean; hasMore?: boolean };
    out.push(...body.data);
    if (!(body.has_more ?? body.hasMore) || body.data.length === 0) return out;
    after = body.data.at(-1)!.id;
  }
}

describe.skipIf(PG_URL === undefined)(
  "two demo servers on one PostgreSQL database",
  { timeout: 60_000 },
  () => {
    const database = `paylink_demo_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    let url: string;
    const demos: DemoServer[] = [];

    beforeAll(async () => {
      await admin.connect();
      await admin.query(`CREATE DATABASE ${database}`);
      const parsed = new URL(PG_URL!);
      parsed.pathname = `/${database}`;
      url = parsed.toString();
    });
    afterAll(async () => {
      await Promise.all(demos.map((demo) => demo.close()));
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    });

    it("both migrate and seed it once; writes through both are read back by either, every event once", async () => {
      // Started together: migration and seeding race, and must neither fail nor seed twice.
      demos.push(
        ...(await Promise.all(
          [0, 1].map(() =>
            startDemoServer({ port: 0, dbFile: "unused.db", pgUrl: url, log: () => {}, deliveryPollMs: 100 }),
          ),
        )),
      );
      const [a, b] = demos as [DemoServer, DemoServer];
      expect(a.banner.join("\n")).toContain("PostgreSQL");
      const seeded = await allEvents(a.url);
      expect(seeded.filter((e) => e.type.endsWith(".created")).length).toBe(8);

      // The receiver of A is the endpoint; both instances' relays and dispatchers serve it.
      const created = await fetch(`${b.url}/webhook_endpoints`, {
        method: "POST",
        headers: KEY,
        body: JSON.stringify({ url: `${a.url}${INBOX_PATH}` }),
      });
      expect(created.status).toBeLessThan(300);

      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const via = i % 2 === 0 ? a : b;
        const response = await fetch(`${via.url}/payments`, {
          method: "POST",
          headers: KEY,
          body: JSON.stringify({
            kind: "link",
            customerId: "cus_demo",
            provider: "stripe",
            amountSubtotal: 100 + i,
            taxAmount: 0,
            currency: "GBP",
            expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
          }),
        });
        expect(response.status).toBeLessThan(300);
        ids.push(((await response.json()) as { data: { id: string } }).data.id);
      }
      // Each link canceled through the other instance than the one that created it.
      for (const [i, id] of ids.entries()) {
        const via = i % 2 === 0 ? b : a;
        expect(
          (await fetch(`${via.url}/payments/${id}/cancel`, { method: "POST", headers: KEY })).status,
        ).toBe(200);
      }

      const fromA = await allEvents(a.url);
      const fromB = await allEvents(b.url);
      expect(fromB).toEqual(fromA);
      expect(new Set(fromA.map((e) => e.id)).size).toBe(fromA.length);
      for (const id of ids) {
        expect(fromA.filter((e) => e.paymentId === id).map((e) => e.type)).toEqual([
          "payment_link.created",
          "payment_link.canceled",
        ]);
      }

      // Every event written after the endpoint was registered reaches A's receiver, each verified, whichever
      // instance's relay and dispatcher handled it (earlier events may or may not: the relay may have
      // passed them before the endpoint existed).
      const expected = new Set(fromA.filter((e) => ids.includes(e.paymentId)).map((e) => e.id));
      expect(expected.size).toBe(12);
      const deadline = Date.now() + 30_000;
      let seen = new Set<string>();
      while (Date.now() < deadline) {
        const page = await (await fetch(`${a.url}/demo/webhooks`)).text();
        seen = new Set(
          [...page.matchAll(/data-webhook-id="([^"]+)" data-verified="yes"/g)].map((m) => m[1]!),
        );
        if ([...expected].every((id) => seen.has(id))) break;
        await sleep(100);
      }
      expect([...expected].filter((id) => !seen.has(id))).toEqual([]);
      expect([...seen].filter((id) => !fromA.some((e) => e.id === id))).toEqual([]);
    });
  },
);
