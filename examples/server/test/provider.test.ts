/**
 * The demo server on a payment provider (`PAYLINK_PROVIDER`): links are created at the provider, a cancel
 * reaches it through the relay (stop pending → stopped ✓), the customer pays at the provider and its
 * signed webhook comes back through the app's own `POST /webhooks/<provider>`, and a payment on a link
 * canceled here but not yet stopped there is a late payment, refunded exactly once. The real demo server
 * on a SQLite file in a temp dir; the test provider in process, Stripe and DNA as the local fakes their
 * packages test against, reached through the demo's own variables.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeDna } from "../../../packages/gateway-dna/test/fake-dna.js";
import { startFakeStripe } from "../../../packages/gateway-stripe/test/fake-stripe.js";
import { until } from "../../../test/fixtures/waiting.js";
import { parseProvider, TEST_PROVIDER_NOT_SHARED } from "../provider.js";
import { type DemoServer, startDemoServer } from "../server.js";

// CI sets the PostgreSQL and NATS variables for other suites; these demo servers run on SQLite files.
const SQLITE_ONLY = { PAYLINK_PG_URL: "", PAYLINK_NATS_URL: "" };
const run = promisify(execFile);
const root = fileURLToPath(new URL("../../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "paylink-demo-provider-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const dbFile = () => join(dir, `demo-${++files}.db`);

const KEY = { "x-api-key": "sk_test_demo" };
const JSON_KEY = { ...KEY, "content-type": "application/json" };
const FORM = { "content-type": "application/x-www-form-urlencoded" };
/** Fast relay retries, so a restored provider is seen within the test's patience. */
const FAST = { deliveryPollMs: 100, deliveryBackoff: { firstMs: 100, maxMs: 500 } } as const;

interface ProviderState {
  reference: string | null;
  stop: string;
  stopDetail: string | null;
  paymentReference: string | null;
  refund: string;
  refundReference: string | null;
}
interface ApiPayment {
  id: string;
  status: string;
  provider: string;
  url: string;
  providerState?: ProviderState;
}

async function createLink(
  demo: DemoServer,
  provider = "stripe",
  expiresInMs = 86_400_000,
): Promise<ApiPayment> {
  const response = await fetch(`${demo.url}/payments`, {
    method: "POST",
    headers: JSON_KEY,
    body: JSON.stringify({
      kind: "link",
      customerId: "cus_demo",
      provider,
      amountSubtotal: 1250,
      taxAmount: 0,
      currency: "GBP",
      expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: ApiPayment }).data;
}

async function get(demo: DemoServer, id: string): Promise<ApiPayment> {
  const response = await fetch(`${demo.url}/payments/${id}`, { headers: KEY });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: ApiPayment }).data;
}

const cancel = (demo: DemoServer, id: string) =>
  fetch(`${demo.url}/payments/${id}/cancel`, { method: "POST", headers: KEY });

/** Posts a page form as a same-origin browser would, and answers the redirect's target. */
async function submit(
  demo: DemoServer,
  path: string,
  body = "",
): Promise<{ status: number; location: string }> {
  const response = await fetch(`${demo.url}${path}`, {
    method: "POST",
    headers: { ...FORM, "sec-fetch-site": "same-origin", origin: demo.url },
    body,
    redirect: "manual",
  });
  return { status: response.status, location: response.headers.get("location") ?? "" };
}

/** The merchant page's row of payment `id` (its HTML). */
async function merchantRow(demo: DemoServer, id: string): Promise<string> {
  const page = await (await fetch(`${demo.url}/`)).text();
  const row = new RegExp(`<tr id="${id}"[\\s\\S]*?</tr>`).exec(page)?.[0];
  expect(row, `row of ${id}`).toBeDefined();
  return row!;
}

const eventsOf = async (demo: DemoServer, id: string) =>
  (
    (await (await fetch(`${demo.url}/events?payment=${id}&limit=100`, { headers: KEY })).json()) as {
      data: Array<{ type: string }>;
    }
  ).data.map((event) => event.type);

describe("the demo on the test provider", { timeout: 60_000 }, () => {
  let demo: DemoServer;
  const logs: string[] = [];
  const provider = () => demo.provider!.test!;
  beforeAll(async () => {
    demo = await startDemoServer({
      port: 0,
      dbFile: dbFile(),
      log: (line) => logs.push(line),
      provider: { name: "test" },
      expirySweepMs: 200,
      ...FAST,
    });
  });
  afterAll(() => demo?.close());
  // A test that failed in an outage must not leave the provider in it for the next.
  afterEach(() => demo?.provider?.test?.restore());

  it("prints the provider and its webhook URL in the banner", () => {
    const line = demo.banner.find((l) => l.startsWith("  Provider        "));
    expect(line).toContain(`Provider        test   webhooks at ${demo.url}/webhooks/test `);
    expect(demo.delivery.sinks).toEqual(["webhooks", "gateway-stop:test", "gateway-refund:test"]);
  });

  it("a link made through POST /payments is paid on /pay/{id}; a cancel stops it at the provider", async () => {
    const created = await createLink(demo);
    expect(created.url).toBe(`${demo.url}/pay/${created.id}`);
    // Every link of this server is hosted at its provider, whatever the client named.
    expect(created.provider).toBe("test");
    const before = await get(demo, created.id);
    const reference = before.providerState?.reference;
    expect(reference).toMatch(/^tpl_/);
    expect(before.providerState).toMatchObject({ stop: "none", paymentReference: null, refund: "none" });
    expect(provider().gateway.link(reference!)?.status).toBe("open");
    expect(await merchantRow(demo, created.id)).toContain('data-stop="none"');

    expect((await cancel(demo, created.id)).status).toBe(200);
    const stopped = await until("the stop to be confirmed", async () => {
      const payment = await get(demo, created.id);
      return payment.providerState?.stop === "confirmed" ? payment : undefined;
    });
    expect(stopped.status).toBe("canceled");
    expect(provider().gateway.link(reference!)?.status).toBe("stopped");
    expect(await eventsOf(demo, created.id)).toContain("payment_link.provider_stopped");
    const row = await merchantRow(demo, created.id);
    expect(row).toContain('data-stop="confirmed"');
    expect(row).toContain("stopped ✓");
    // The customer's page offers nothing to pay any more.
    const page = await (await fetch(`${demo.url}/pay/${created.id}`)).text();
    expect(page).not.toContain('action="/pay/');
    expect(page).toContain("Stopped at the provider too.");
    expect(logs.some((line) => line.includes(`[test] stop ${created.id} ${reference}: stopped`))).toBe(true);
  });

  it("an expired link that nobody reads is stopped at the provider by the expiry sweep", async () => {
    const created = await createLink(demo, "test", 1_500);
    const reference = (await get(demo, created.id)).providerState?.reference;
    expect(provider().gateway.link(reference!)?.status).toBe("open");
    // No read of the payment from here on (a read would expire it lazily): only the sweep can.
    await until("the sweep to stop the expired link at the provider", async () =>
      provider().gateway.link(reference!)?.status === "stopped" ? true : undefined,
    );
    const payment = await get(demo, created.id);
    expect(payment.status).toBe("expired");
    expect(payment.providerState).toMatchObject({ stop: "confirmed", paymentReference: null });
    expect(await eventsOf(demo, created.id)).toEqual(
      expect.arrayContaining(["payment_link.expired", "payment_link.provider_stopped"]),
    );
    expect(logs.some((line) => line.startsWith("[expiry] ") && line.includes("expired"))).toBe(true);
  });

  it("in an outage the stop stays pending, the canceled link is paid late, and after restore it is refunded once", async () => {
    const created = await createLink(demo);
    const reference = (await get(demo, created.id)).providerState!.reference!;

    expect(await submit(demo, "/merchant/provider/outage", "kind=500")).toMatchObject({ status: 303 });
    expect(provider().outage()).toBe("500");
    expect(await (await fetch(`${demo.url}/`)).text()).toContain('data-outage="500"');
    // The provider makes a link's object first: in an outage nothing is created.
    const refused = await submit(demo, "/merchant/payments", "amount=3.00&currency=GBP");
    expect(refused.location).toContain("error=provider_unavailable");

    expect((await submit(demo, `/merchant/payments/${created.id}/cancel`)).status).toBe(303);
    // The relay tries the stop and fails: the local cancel holds, the provider's link stays open.
    const runs = await demo.delivery.relay.runOnce();
    expect(runs.find((r) => r.sink === "gateway-stop:test")?.outcome).toBe("failed");
    const pending = await get(demo, created.id);
    expect(pending.status).toBe("canceled");
    expect(pending.providerState?.stop).toBe("pending");
    expect(provider().gateway.link(reference)?.status).toBe("open");
    expect(await merchantRow(demo, created.id)).toContain("stop pending");

    // The customer still has the link: the page says so and takes the payment, at the provider.
    const payPage = await (await fetch(`${demo.url}/pay/${created.id}`)).text();
    expect(payPage).toContain("Canceled here, not yet stopped at the provider");
    expect(payPage).toContain(`action="/pay/${created.id}/pay"`);
    const paid = await submit(demo, `/pay/${created.id}/pay`, "card=4242+4242+4242+4242");
    expect(paid).toEqual({ status: 303, location: `/pay/${created.id}?result=paid_late` });
    // The provider's webhook came in through the app's own intake, as a real provider's would.
    expect(logs.some((line) => /^POST \/webhooks\/test 200 /.test(line))).toBe(true);
    const late = await get(demo, created.id);
    expect(late.status).toBe("canceled");
    const paymentReference = late.providerState?.paymentReference;
    expect(paymentReference).toMatch(/^tpi_/);
    expect(provider().gateway.link(reference)?.status).toBe("paid");
    expect(provider().gateway.link(reference)?.refunds).toEqual([]);
    // Paying again is refused by the provider: nothing more happens.
    expect((await submit(demo, `/pay/${created.id}/pay`)).location).toBe(
      `/pay/${created.id}?result=not_payable`,
    );

    expect(await submit(demo, "/merchant/provider/restore")).toMatchObject({ status: 303 });
    expect(provider().outage()).toBeNull();
    const settled = await until("the refund and the stop to be recorded", async () => {
      const payment = await get(demo, created.id);
      const state = payment.providerState!;
      return state.refund === "succeeded" && state.stop === "confirmed" ? payment : undefined;
    });
    const refunds = provider().gateway.link(reference)!.refunds;
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ paymentReference, amount: 1250, currency: "GBP" });
    expect(settled.providerState?.refundReference).toBe(refunds[0]!.reference);
    // More relay runs refund nothing more.
    await demo.delivery.relay.runOnce();
    expect(provider().gateway.link(reference)!.refunds).toHaveLength(1);
    const types = await eventsOf(demo, created.id);
    expect(types.filter((type) => type === "payment_link.late_payment")).toHaveLength(1);
    expect(types.filter((type) => type === "payment_link.refunded")).toHaveLength(1);

    const row = await merchantRow(demo, created.id);
    expect(row).toContain("stopped ✓");
    expect(row).toContain(`late payment</span> <span class="mono">${paymentReference}</span>`);
    expect(row).toContain(`refund succeeded ${refunds[0]!.reference}`);
    expect(row).toContain('data-refund="succeeded"');
  });

  it("a declined card and then a paying one, at the provider, move the link through the machine", async () => {
    const created = await createLink(demo);
    const reference = (await get(demo, created.id)).providerState!.reference!;
    const declined = await submit(demo, `/pay/${created.id}/pay`, "card=4000+0000+0000+0002");
    expect(declined.location).toBe(`/pay/${created.id}?result=declined`);
    expect((await get(demo, created.id)).status).toBe("attempted");
    expect(provider().gateway.link(reference)?.status).toBe("open");
    // Not a test card: nothing is sent to the provider.
    const unknown = await submit(demo, `/pay/${created.id}/pay`, "card=5555+5555+5555+4444");
    expect(unknown.location).toBe(`/pay/${created.id}?result=unknown_card`);
    expect(provider().gateway.link(reference)?.status).toBe("open");

    const paid = await submit(demo, `/pay/${created.id}/pay`, "card=4242424242424242");
    expect(paid.location).toBe(`/pay/${created.id}?result=paid`);
    const payment = await get(demo, created.id);
    expect(payment.status).toBe("paid");
    expect(payment.providerState?.paymentReference).toBe(
      provider().gateway.link(reference)?.paymentReference,
    );
    expect(await merchantRow(demo, created.id)).toMatch(/<div data-field="stop">paid<\/div>/);
    const page = await (await fetch(`${demo.url}/pay/${created.id}?result=paid`)).text();
    expect(page).toContain("Payment successful.");
    expect(page).not.toContain('action="/pay/');
  });

  it("a link created on the merchant page gets a provider object; seeded payments keep the local flow", async () => {
    const made = await submit(demo, "/merchant/payments", "description=Tea&amount=4.20&currency=GBP");
    const id = new URLSearchParams(made.location.slice(2).split("#")[0]).get("payment")!;
    expect((await get(demo, id)).providerState?.reference).toMatch(/^tpl_/);

    const webhooks = () => logs.filter((line) => line.startsWith("POST /webhooks/test")).length;
    const webhooksBefore = webhooks();
    const seeded = await get(demo, "pay_demo_viewed");
    expect(seeded.providerState).toBeUndefined();
    expect(await merchantRow(demo, "pay_demo_viewed")).toContain(
      '<td data-field="provider"><span class="muted">—</span></td>',
    );
    const paid = await submit(demo, "/pay/pay_demo_viewed/pay");
    expect(paid.location).toBe("/pay/pay_demo_viewed?result=paid");
    expect((await get(demo, "pay_demo_viewed")).status).toBe("paid");
    // Paid here, through the machine: the provider is not involved.
    expect(webhooks()).toBe(webhooksBefore);
  });

  it("the outage switches are form posts like the others: same origin only, POST only, known kinds only", async () => {
    const crossSite = await fetch(`${demo.url}/merchant/provider/outage`, {
      method: "POST",
      headers: { ...FORM, "sec-fetch-site": "cross-site", origin: "https://attacker.example" },
      body: "kind=500",
      redirect: "manual",
    });
    expect(crossSite.status).toBe(403);
    const otherOrigin = await fetch(`${demo.url}/merchant/provider/restore`, {
      method: "POST",
      headers: { ...FORM, origin: "https://attacker.example" },
      redirect: "manual",
    });
    expect(otherOrigin.status).toBe(403);
    expect((await fetch(`${demo.url}/merchant/provider/outage`)).status).toBe(405);
    expect((await submit(demo, "/merchant/provider/outage", "kind=teapot")).location).toBe(
      "/?error=invalid_outage",
    );
    expect(provider().outage()).toBeNull();
    for (const kind of ["refused", "429", "hang"] as const) {
      await submit(demo, "/merchant/provider/outage", `kind=${kind}`);
      expect(provider().outage()).toBe(kind);
    }
    await submit(demo, "/merchant/provider/restore");
    expect(await (await fetch(`${demo.url}/`)).text()).toContain('data-outage="none"');
  });
});

describe("the demo without a provider", () => {
  it("refuses a negative or fractional expiry sweep interval before opening anything", async () => {
    for (const expirySweepMs of [-1, 0.5, Number.NaN]) {
      await expect(
        startDemoServer({ port: 0, dbFile: dbFile(), log: () => {}, expirySweepMs }),
      ).rejects.toThrow(/expirySweepMs must be a whole number/);
    }
  });

  it("has no gateway sinks, no /webhooks/test, and no outage switches", async () => {
    const demo = await startDemoServer({
      port: 0,
      dbFile: dbFile(),
      log: () => {},
      provider: { name: "none" },
    });
    try {
      expect(demo.banner.find((l) => l.startsWith("  Provider        "))).toContain("none");
      expect(demo.delivery.sinks).toEqual(["webhooks"]);
      const created = await createLink(demo);
      expect(created.provider).toBe("stripe");
      expect((await get(demo, created.id)).providerState).toBeUndefined();
      expect((await fetch(`${demo.url}/webhooks/test`, { method: "POST", body: "{}" })).status).toBe(404);
      expect((await submit(demo, "/merchant/provider/outage", "kind=500")).status).toBe(404);
    } finally {
      await demo.close();
    }
  });
});

describe("the demo on Stripe (PAYLINK_STRIPE_API_BASE: a local stand-in of Stripe's API)", {
  timeout: 60_000,
}, () => {
  it("creates Stripe payment links, takes Stripe's signed webhook, and deactivates a canceled link", async () => {
    const fake = await startFakeStripe({ webhookSecret: "whsec_paylink_fake_secret" });
    const provider = parseProvider({
      PAYLINK_PROVIDER: "stripe",
      STRIPE_SECRET_KEY: "sk_test_paylink_fake",
      STRIPE_WEBHOOK_SECRET: "whsec_paylink_fake_secret",
      PAYLINK_STRIPE_API_BASE: `http://127.0.0.1:${fake.port}`,
    });
    const demo = await startDemoServer({ port: 0, dbFile: dbFile(), log: () => {}, provider, ...FAST });
    try {
      expect(demo.banner.join("\n")).toContain(`webhooks at ${demo.url}/webhooks/stripe`);
      const paidLink = await createLink(demo, "test");
      expect(paidLink.provider).toBe("stripe");
      const reference = (await get(demo, paidLink.id)).providerState!.reference!;
      expect(fake.links.get(reference)?.url).toBe(paidLink.url);
      // Stripe's customer pays on Stripe's page, not here.
      const page = await (await fetch(`${demo.url}/pay/${paidLink.id}`)).text();
      expect(page).toContain("pay on stripe's page");
      expect(page).not.toContain('action="/pay/');

      const webhook = fake.pay(reference);
      const delivered = await fetch(`${demo.url}/webhooks/stripe`, {
        method: "POST",
        headers: webhook.headers,
        body: webhook.rawBody,
      });
      expect(delivered.status).toBe(200);
      expect((await get(demo, paidLink.id)).status).toBe("paid");

      const canceled = await createLink(demo);
      const stopRef = (await get(demo, canceled.id)).providerState!.reference!;
      expect((await cancel(demo, canceled.id)).status).toBe(200);
      await until("the Stripe link to be stopped", async () =>
        (await get(demo, canceled.id)).providerState?.stop === "confirmed" ? true : undefined,
      );
      expect(fake.links.get(stopRef)?.active).toBe(false);
    } finally {
      await demo.close();
      await fake.close();
    }
  });
});

describe("the demo on DNA Payments (PAYLINK_DNA_API_BASE, PAYLINK_DNA_AUTH_BASE: a local stand-in)", {
  timeout: 60_000,
}, () => {
  it("creates DNA links with its callback URL, takes DNA's signed callback, and cancels at DNA", async () => {
    const fake = await startFakeDna();
    const provider = parseProvider({
      PAYLINK_PROVIDER: "dna",
      DNA_CLIENT_ID: fake.clientId,
      DNA_CLIENT_SECRET: fake.clientSecret,
      DNA_TERMINAL_ID: fake.terminalId,
      PAYLINK_DNA_API_BASE: fake.baseUrl,
      PAYLINK_DNA_AUTH_BASE: fake.baseUrl,
    });
    const demo = await startDemoServer({ port: 0, dbFile: dbFile(), log: () => {}, provider, ...FAST });
    try {
      const paidLink = await createLink(demo);
      expect(paidLink.provider).toBe("dna");
      const reference = (await get(demo, paidLink.id)).providerState!.reference!;
      expect(fake.links.get(reference)?.url).toBe(paidLink.url);
      const sent = fake.requests.find((r) => r.method === "POST" && r.path === "/v1/payment-links");
      expect(sent?.body).toContain(`"callbackUrl":"${demo.url}/webhooks/dna"`);

      const callback = fake.pay(reference);
      const delivered = await fetch(`${demo.url}/webhooks/dna`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(callback),
      });
      expect(delivered.status).toBe(200);
      expect((await get(demo, paidLink.id)).status).toBe("paid");

      const canceled = await createLink(demo);
      const stopRef = (await get(demo, canceled.id)).providerState!.reference!;
      expect((await cancel(demo, canceled.id)).status).toBe(200);
      await until("the DNA link to be cancelled", async () =>
        (await get(demo, canceled.id)).providerState?.stop === "confirmed" ? true : undefined,
      );
      expect(fake.links.get(stopRef)?.status).toBe("cancelled");
    } finally {
      await demo.close();
      await fake.close();
    }
  });
});

describe("PAYLINK_PROVIDER", () => {
  it("is the test provider when unset or blank; names are case-insensitive", () => {
    expect(parseProvider({})).toEqual({ name: "test" });
    expect(parseProvider({ PAYLINK_PROVIDER: "  " })).toEqual({ name: "test" });
    expect(parseProvider({ PAYLINK_PROVIDER: "None" })).toEqual({ name: "none" });
  });

  it("is none with PAYLINK_PG_URL, where the test provider (one process's memory) is refused", async () => {
    const PG = { PAYLINK_PG_URL: "postgres://postgres@127.0.0.1:5432/test" };
    expect(parseProvider(PG)).toEqual({ name: "none" });
    expect(() => parseProvider({ ...PG, PAYLINK_PROVIDER: "test" })).toThrow(TEST_PROVIDER_NOT_SHARED);
    expect(
      parseProvider({
        ...PG,
        PAYLINK_PROVIDER: "dna",
        DNA_CLIENT_ID: "i",
        DNA_CLIENT_SECRET: "s",
        DNA_TERMINAL_ID: "t",
      }),
    ).toMatchObject({ name: "dna" });
    // Refused before anything is opened: the URL is never connected to.
    await expect(
      startDemoServer({
        port: 0,
        dbFile: dbFile(),
        pgUrl: "postgres://nobody@127.0.0.1:1/none",
        provider: { name: "test" },
      }),
    ).rejects.toThrow(TEST_PROVIDER_NOT_SHARED);
  });

  it("refuses an unknown provider, naming the variable", () => {
    expect(() => parseProvider({ PAYLINK_PROVIDER: "paypal" })).toThrow(
      'PAYLINK_PROVIDER must be one of test, stripe, dna, none, not "paypal".',
    );
  });

  it("stripe: both secrets required, no live key, an API base of scheme, host and port only", () => {
    const stripe = {
      PAYLINK_PROVIDER: "stripe",
      STRIPE_SECRET_KEY: "sk_test_1",
      STRIPE_WEBHOOK_SECRET: "whsec_1",
    };
    expect(() => parseProvider({ ...stripe, STRIPE_SECRET_KEY: "" })).toThrow(
      "STRIPE_SECRET_KEY is required with PAYLINK_PROVIDER=stripe.",
    );
    expect(() => parseProvider({ ...stripe, STRIPE_WEBHOOK_SECRET: undefined })).toThrow(
      "STRIPE_WEBHOOK_SECRET is required with PAYLINK_PROVIDER=stripe.",
    );
    expect(() => parseProvider({ ...stripe, STRIPE_SECRET_KEY: "sk_live_1" })).toThrow(
      /STRIPE_SECRET_KEY is a live key/,
    );
    expect(() => parseProvider({ ...stripe, STRIPE_SECRET_KEY: "rk_live_1" })).toThrow(
      /STRIPE_SECRET_KEY is a live key/,
    );
    for (const bad of [
      "127.0.0.1:12111",
      "ftp://127.0.0.1",
      "http://127.0.0.1:12111/v1",
      "http://u:p@127.0.0.1",
    ])
      expect(() => parseProvider({ ...stripe, PAYLINK_STRIPE_API_BASE: bad }), bad).toThrow(
        /^PAYLINK_STRIPE_API_BASE must be an http\(s\) URL/,
      );
    expect(parseProvider({ ...stripe, PAYLINK_STRIPE_API_BASE: "http://127.0.0.1:12111" })).toEqual({
      name: "stripe",
      secretKey: "sk_test_1",
      webhookSecret: "whsec_1",
      apiBase: { host: "127.0.0.1", port: 12111, protocol: "http" },
    });
    expect(parseProvider({ ...stripe, PAYLINK_STRIPE_API_BASE: "https://stripe.internal/" })).toMatchObject({
      apiBase: { host: "stripe.internal", port: 443, protocol: "https" },
    });
  });

  it("dna: credentials and terminal required, DNA_ENVIRONMENT test (default) or live, URLs checked", () => {
    const dna = {
      PAYLINK_PROVIDER: "dna",
      DNA_CLIENT_ID: "id",
      DNA_CLIENT_SECRET: "secret",
      DNA_TERMINAL_ID: "t",
    };
    for (const name of ["DNA_CLIENT_ID", "DNA_CLIENT_SECRET", "DNA_TERMINAL_ID"])
      expect(() => parseProvider({ ...dna, [name]: "" })).toThrow(
        `${name} is required with PAYLINK_PROVIDER=dna.`,
      );
    expect(() => parseProvider({ ...dna, DNA_ENVIRONMENT: "sandbox" })).toThrow(
      'DNA_ENVIRONMENT must be test or live, not "sandbox".',
    );
    expect(() => parseProvider({ ...dna, PAYLINK_DNA_AUTH_BASE: "not a url" })).toThrow(
      /^PAYLINK_DNA_AUTH_BASE must be an http\(s\) URL/,
    );
    expect(parseProvider(dna)).toEqual({
      name: "dna",
      clientId: "id",
      clientSecret: "secret",
      terminalId: "t",
      environment: "test",
    });
    expect(
      parseProvider({
        ...dna,
        DNA_ENVIRONMENT: "live",
        DNA_CALLBACK_SECRET: "cb",
        PAYLINK_DNA_API_BASE: "http://127.0.0.1:9",
      }),
    ).toMatchObject({ environment: "live", callbackSecret: "cb", apiBaseUrl: "http://127.0.0.1:9/" });
  });

  it("main.ts refuses to start on a bad value, with a message naming the variable", async () => {
    const unknown = await mainRefusesToStart({ PAYLINK_PROVIDER: "paypal" });
    expect(unknown?.code).toBe(1);
    expect(unknown?.stderr).toContain(
      'PAYLINK_PROVIDER must be one of test, stripe, dna, none, not "paypal".',
    );
    const missing = await mainRefusesToStart({
      PAYLINK_PROVIDER: "stripe",
      STRIPE_SECRET_KEY: "",
      STRIPE_WEBHOOK_SECRET: "",
    });
    expect(missing?.code).toBe(1);
    expect(missing?.stderr).toContain("STRIPE_SECRET_KEY is required with PAYLINK_PROVIDER=stripe.");
  }, 60_000);
});

/**
 * Runs `main.ts` with `env` on a new SQLite file and answers how it failed (`undefined` if it exited 0).
 * Were the value accepted, the server would run on: the timeout stops it rather than hang the test.
 */
function mainRefusesToStart(env: Record<string, string>) {
  return run(join(root, "node_modules/.bin/tsx"), ["examples/server/main.ts"], {
    cwd: root,
    env: { ...process.env, ...SQLITE_ONLY, PORT: "0", PAYLINK_DB: dbFile(), ...env },
    timeout: 20_000,
  }).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
}
