import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { generatedDocs } from "../scripts/docs.js";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("generated docs", () => {
  test("the committed docs equal what the machine and the error registry generate (run `pnpm docs:generate`)", async () => {
    for (const [path, content] of Object.entries(await generatedDocs())) {
      expect(readFileSync(`${root}${path}`, "utf8"), path).toBe(content);
    }
  });
});

describe("the lifecycle page's events column", () => {
  test("every transition row says what the command really writes: its events, in order, and the status it leaves", async () => {
    const { createPaymentLinks } = await import("@paylink/core");
    const { createMemoryStore } = await import("@paylink/store-memory");
    const { fakeClock, samplePayment } = await import("@paylink/testing");
    const page = readFileSync(`${root}docs/lifecycle.md`, "utf8");
    const command = {
      VIEW: "view",
      START_PAYMENT: "startPayment",
      PAYMENT_FAILED: "paymentFailed",
      PAYMENT_SUCCEEDED: "paymentSucceeded",
      CANCEL: "cancel",
      EXPIRE: "get", // every command applies a due expiry first; get does nothing else
    } as const;
    const rows = [
      ...page.matchAll(
        /^### (Payment link|Charge)$|^\| `(\w+)` \| `(\w+)` \| ([^|]*) \| `(\w+)` \| ([^|]*) \|$/gm,
      ),
    ];
    let kind: "link" | "charge" = "link";
    let checked = 0;
    for (const [, heading, from, event, when, to, written] of rows) {
      if (heading !== undefined) {
        kind = heading === "Charge" ? "charge" : "link";
        continue;
      }
      const now = new Date("2030-01-01T00:00:00.000Z");
      const clock = fakeClock(now);
      const store = createMemoryStore();
      const links = createPaymentLinks({ store, clock });
      const scope = { accountId: "acct_docs", livemode: false };
      const due = when!.includes("past");
      const expiresAt =
        kind === "charge" ? null : new Date(now.getTime() + (due ? -1 : 1) * 60_000).toISOString();
      const payment = samplePayment({ kind, status: from as never, expiresAt, livemode: false });
      await store.insert(scope, { payment, version: 1 }, []);
      const name = command[event as keyof typeof command];
      const result = await links[name](scope, payment.id);
      const row = `${kind} ${from} ${event} ${when}`;
      expect(result.isOk(), row).toBe(true);
      const events = (await store.readEvents(0, 100)).map((stored) => stored.event);
      expect(events.map((e) => `\`${e.type}\``).join(", "), row).toBe(written!.trim());
      expect((await store.get(scope, payment.id))?.payment.status, row).toBe(to);
      checked++;
    }
    expect(checked, "the page has a transitions table for each kind").toBeGreaterThanOrEqual(20);
  });
});

describe("error docs", () => {
  test("every code of both registries has exactly one heading in docs/errors.md, so every doc_url anchor exists", async () => {
    const { ERROR_CODES } = await import("@paylink/core");
    const { HTTP_ERRORS } = await import("@paylink/http");
    const page = readFileSync(`${root}docs/errors.md`, "utf8");
    const headings = [...page.matchAll(/^## (\S+)$/gm)].map((m) => m[1]);
    for (const code of [...Object.keys(ERROR_CODES), ...Object.keys(HTTP_ERRORS)]) {
      expect(
        headings.filter((h) => h === code),
        code,
      ).toHaveLength(1);
    }
  });

  test("a real error response's doc_url points at an existing heading", async () => {
    const { createPaymentLinks } = await import("@paylink/core");
    const { createMemoryStore } = await import("@paylink/store-memory");
    const { createPaylinkApp, staticKeys } = await import("@paylink/http");
    const store = createMemoryStore();
    const app = createPaylinkApp({
      links: createPaymentLinks({ store }),
      authenticate: staticKeys({ sk_test_x: { accountId: "acct_x", livemode: false, canWrite: true } }),
      idempotency: store,
      docsBaseUrl: "https://paylink.example",
    });
    const page = readFileSync(`${root}docs/errors.md`, "utf8");
    for (const [path, headers] of [
      ["/payments/pay_missing/cancel", { "x-api-key": "sk_test_x" }],
      ["/payments/pay_missing/cancel", {}],
    ] as const) {
      const response = await app.fetch(new Request(`http://local${path}`, { method: "POST", headers }));
      const body = (await response.json()) as { error: { code: string; doc_url: string } };
      const anchor = new URL(body.error.doc_url).hash.slice(1);
      expect(anchor).toBe(body.error.code);
      expect(page).toMatch(new RegExp(`^## ${anchor}$`, "m"));
    }
  });
});
