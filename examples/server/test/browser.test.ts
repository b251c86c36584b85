/**
 * The demo's pages in a real browser (Debian's Chromium through playwright-core): the hosted page, the
 * merchant page and the lifecycle page, with and without JavaScript. Screenshots of each page are saved
 * under `test/artifacts/` (git-ignored).
 *
 * Without /usr/bin/chromium these tests are skipped, visibly; with PAYLINK_REQUIRE_BROWSER=1 (CI) they fail.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decide, type Payment } from "@paylink/core";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_SCOPE } from "../seed.js";
import { type DemoServer, startDemoServer } from "../server.js";

/** Debian's Chromium; PAYLINK_CHROMIUM points elsewhere (e.g. to check the skip and the failure). */
const CHROMIUM = process.env.PAYLINK_CHROMIUM ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const requireBrowser = process.env.PAYLINK_REQUIRE_BROWSER === "1";
const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const KEY = "sk_test_demo";

if (!hasChromium) {
  if (requireBrowser) {
    it("Chromium is installed (PAYLINK_REQUIRE_BROWSER=1)", () => {
      throw new Error(
        `PAYLINK_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium).`,
      );
    });
  } else {
    console.warn(`[browser.test] ${CHROMIUM} is missing: the browser tests are skipped.`);
    it.skip(`browser tests skipped: ${CHROMIUM} is missing (PAYLINK_REQUIRE_BROWSER=1 makes this fail)`, () => {});
  }
}

/** A description a merchant's customer could type: markup that must show as text, never run. */
const HOSTILE = `<script>alert(1)</script> "quotes" & 'apostrophes' <img src=x onerror=alert(2)> <b>bold</b>`;

describe.skipIf(!hasChromium)("the demo's pages in Chromium", { timeout: 30_000 }, () => {
  let demo: DemoServer;
  let browser: Browser;
  let js: BrowserContext;
  let noJs: BrowserContext;
  let dir: string;
  /** Everything a page could reveal: alert dialogs, console errors (CSP violations land there), HTML. */
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];
  const seenHtml: string[] = [];

  const watch = (page: Page) => {
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("response", async (response) => {
      if ((response.headers()["content-type"] ?? "").startsWith("text/html")) {
        seenHtml.push(await response.text().catch(() => ""));
      }
    });
    return page;
  };
  const newPage = async (context: BrowserContext) => watch(await context.newPage());
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });

  const apiStatus = async (id: string) => {
    const response = await fetch(`${demo.url}/payments/${id}`, { headers: { "x-api-key": KEY } });
    return ((await response.json()) as { data: { status: string } }).data.status;
  };
  const get = async (id: string): Promise<Payment> => (await demo.links.get(DEMO_SCOPE, id))._unsafeUnwrap();
  const listAll = async (): Promise<Payment[]> => {
    const all: Payment[] = [];
    for (;;) {
      const last = all.at(-1)?.id;
      const page = (
        await demo.links.list(
          DEMO_SCOPE,
          last === undefined ? { limit: 100 } : { limit: 100, startingAfter: last },
        )
      )._unsafeUnwrap();
      all.push(...page);
      if (page.length < 100) return all;
    }
  };
  const createLink = async (description: string | null, metadata: Record<string, string> = {}) =>
    (
      await demo.links.create(DEMO_SCOPE, {
        customerId: "cus_browser",
        provider: "stripe",
        amountSubtotal: 4550,
        taxAmount: 0,
        currency: "EUR",
        description,
        metadata,
        expiresAt: new Date(Date.now() + 86_400_000),
      })
    )._unsafeUnwrap();
  const payButton = (page: Page) => page.getByRole("button", { name: /^Pay/ });
  const row = (page: Page, id: string) => page.locator(`tr[data-id="${id}"]`);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "paylink-browser-"));
    demo = await startDemoServer({ port: 0, dbFile: join(dir, "demo.db"), log: () => undefined });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    const viewport = { width: 1280, height: 800 };
    js = await browser.newContext({ viewport });
    noJs = await browser.newContext({ viewport, javaScriptEnabled: false });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("1. opening /pay/pay_demo_pending records a view", async () => {
    expect(await apiStatus("pay_demo_pending")).toBe("pending");
    const page = await newPage(js);
    const response = await page.goto(`${demo.url}/pay/pay_demo_pending`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
    expect(await apiStatus("pay_demo_pending")).toBe("viewed");
    await expect.poll(() => page.locator("[data-field=amount]").textContent()).toBe("12.00 GBP");
    expect(await page.locator("[data-field=description]").textContent()).toBe("For cappuccino");
    expect(await page.locator("[data-field=status-words]").textContent()).toBe("Awaiting payment");
    expect(await page.locator("input[name=card]").inputValue()).toBe("4242 4242 4242 4242");
    expect(await payButton(page).count()).toBe(1);
    await shot(page, "pay-page.png");
    await page.close();
  });

  it("2. paying with the default test card pays the link; the page says so and offers no button", async () => {
    const page = await newPage(js);
    await page.goto(`${demo.url}/pay/pay_demo_pending`);
    await payButton(page).click();
    await page.waitForURL(/\/pay\/pay_demo_pending\?result=paid$/);
    expect(await apiStatus("pay_demo_pending")).toBe("paid");
    expect(await page.locator("[data-field=status-words]").textContent()).toBe("Paid");
    expect(await page.getByRole("status").first().textContent()).toBe("Payment successful.");
    expect(await page.locator(".final").textContent()).toBe("This payment link has been paid. Thank you!");
    expect(await payButton(page).count()).toBe(0);
    expect(await page.locator("form").count()).toBe(0);
    await shot(page, "paid-page.png");
    await page.close();
  });

  it("3. the declining test card leaves the link attempted and still payable; other numbers do nothing", async () => {
    const page = await newPage(js);
    await page.goto(`${demo.url}/pay/pay_demo_viewed`);
    await page.locator("input[name=card]").fill("4000 0000 0000 0002");
    await payButton(page).click();
    await page.waitForURL(/\?result=declined$/);
    expect(await apiStatus("pay_demo_viewed")).toBe("attempted");
    expect(await page.getByRole("alert").textContent()).toContain("Your card was declined");
    expect(await page.locator("[data-field=status-words]").textContent()).toContain(
      "(the last attempt failed)",
    );
    expect(await payButton(page).count()).toBe(1);
    await shot(page, "declined-page.png");

    const attemptedAt = (await get("pay_demo_viewed")).attemptedAt;
    await page.locator("input[name=card]").fill("5555 5555 5555 4444");
    await payButton(page).click();
    await page.waitForURL(/\?result=unknown_card$/);
    expect(await page.getByRole("alert").textContent()).toContain("not a test card");
    expect(await get("pay_demo_viewed")).toMatchObject({ status: "attempted", attemptedAt });
    expect(await payButton(page).count()).toBe(1);
    await page.close();
  });

  it("4. Cancel on the merchant page exactly where the machine allows it; a canceled link offers no button", async () => {
    const page = await newPage(js);
    await page.goto(`${demo.url}/`);
    const payments = await listAll();
    expect(await page.locator("tbody tr[data-id]").count()).toBe(payments.length);
    for (const payment of payments) {
      const due = payment.expiresAt !== null && Date.now() >= Date.parse(payment.expiresAt);
      const decision = decide(payment.kind, payment.status, "CANCEL", due)!;
      const offered = decision.reject === null && decision.changes;
      expect(await row(page, payment.id).getByRole("button", { name: "Cancel" }).count(), payment.id).toBe(
        offered ? 1 : 0,
      );
    }
    // Spelled out: no Cancel on paid, processing, expired, canceled rows, nor on the charge.
    for (const id of [
      "pay_demo_paid",
      "pay_demo_pending", // paid in test 2
      "pay_demo_processing",
      "pay_demo_expired",
      "pay_demo_canceled",
      "pay_demo_charge",
    ]) {
      expect(await row(page, id).getByRole("button").count(), id).toBe(0);
    }
    expect(await row(page, "pay_demo_viewed").getByRole("button", { name: "Cancel" }).count()).toBe(1);
    expect(await row(page, "pay_demo_attempted").getByRole("button", { name: "Cancel" }).count()).toBe(1);

    await row(page, "pay_demo_viewed").getByRole("button", { name: "Cancel" }).click();
    await page.waitForURL(/done=canceled/);
    expect(await page.getByRole("status").textContent()).toBe("pay_demo_viewed was canceled.");
    expect(await row(page, "pay_demo_viewed").getAttribute("data-status")).toBe("canceled");
    expect(await row(page, "pay_demo_viewed").getByRole("button").count()).toBe(0);
    expect(await apiStatus("pay_demo_viewed")).toBe("canceled");
    await shot(page, "merchant-page.png");

    const pay = await newPage(js);
    await pay.goto(`${demo.url}/pay/pay_demo_viewed`);
    expect(await pay.locator(".final").textContent()).toBe(
      "This payment link was canceled. It can no longer be paid.",
    );
    expect(await payButton(pay).count()).toBe(0);
    expect(await pay.locator("input, button, form").count()).toBe(0);
    await shot(pay, "canceled-page.png");
    await pay.close();

    // A race: the page offered Cancel, then the customer paid. The refusal is shown, nothing changes.
    await page.goto(`${demo.url}/`);
    const cancel = row(page, "pay_demo_attempted").getByRole("button", { name: "Cancel" });
    expect(await cancel.count()).toBe(1);
    (await demo.links.startPayment(DEMO_SCOPE, "pay_demo_attempted"))._unsafeUnwrap();
    (await demo.links.paymentSucceeded(DEMO_SCOPE, "pay_demo_attempted"))._unsafeUnwrap();
    await cancel.click();
    await page.waitForURL(/error=payment_not_cancelable/);
    expect(await page.getByRole("alert").textContent()).toBe(
      "Could not cancel pay_demo_attempted: A payment link that is paid cannot be canceled.",
    );
    expect(await row(page, "pay_demo_attempted").getAttribute("data-status")).toBe("paid");
    expect(await row(page, "pay_demo_attempted").getByRole("button").count()).toBe(0);
    expect(await apiStatus("pay_demo_attempted")).toBe("paid");
    await shot(page, "merchant-refused-cancel.png");
    await page.close();
  });

  it("5. a description or metadata holding <script> is shown as text and never runs", async () => {
    const hostile = await createLink(HOSTILE, { note: "<script>alert(3)</script>", "<b>k</b>": `"v" & 'w'` });
    const page = await newPage(js);
    const response = await page.goto(`${demo.url}/pay/${hostile.id}`);
    const raw = (await response?.text()) ?? "";
    expect(raw).not.toMatch(/<script|<img|<b>/i);
    expect(raw).toContain(
      "&#60;script&#62;alert(1)&#60;/script&#62; &#34;quotes&#34; &#38; &#39;apostrophes&#39;",
    );
    expect(await page.locator("[data-field=description]").textContent()).toBe(HOSTILE);
    expect(await page.locator("[data-field=amount]").textContent()).toBe("45.50 EUR");
    expect(await page.locator("script, img, b").count()).toBe(0);

    await page.goto(`${demo.url}/`);
    const hostileRow = row(page, hostile.id);
    expect(await hostileRow.locator("[data-field=description]").textContent()).toBe(HOSTILE);
    expect(await hostileRow.locator("[data-field=metadata] > div").allTextContents()).toEqual([
      "note: <script>alert(3)</script>",
      `<b>k</b>: "v" & 'w'`,
    ]);
    expect(await page.locator("script, img, b").count()).toBe(0);
    await hostileRow.locator("summary").click(); // <details> opens without JavaScript too
    await shot(page, "merchant-escaped.png");
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it("6. /lifecycle shows the generated SVG and counts that match links.list", async () => {
    const page = await newPage(js);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${demo.url}/lifecycle`);
    const svg = page.locator("figure svg");
    expect(await svg.isVisible()).toBe(true);
    const box = await svg.boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    const payments = await listAll();
    const expected = new Map<string, number>();
    for (const p of payments)
      expected.set(`${p.kind}/${p.status}`, (expected.get(`${p.kind}/${p.status}`) ?? 0) + 1);
    const rows = await page.locator("table.counts tr[data-kind]").evaluateAll((trs) =>
      trs.map((tr) => ({
        key: `${tr.getAttribute("data-kind")}/${tr.getAttribute("data-status")}`,
        count: Number(tr.querySelector("[data-field=count]")?.textContent),
      })),
    );
    expect(rows.length).toBe(11); // 7 link statuses + 4 charge statuses
    for (const { key, count } of rows) expect(count, key).toBe(expected.get(key) ?? 0);
    expect(rows.reduce((sum, r) => sum + r.count, 0)).toBe(payments.length);
    expect(Number(await page.locator("[data-field=total]").textContent())).toBe(payments.length);
    // The same counts are written into the diagram, under each status node.
    const nodes = await svg.locator("g.node").evaluateAll((gs) =>
      gs.map((g) => ({
        title: g.querySelector("title")?.textContent ?? "",
        texts: [...g.querySelectorAll("text")].map((t) => t.textContent),
      })),
    );
    expect(nodes.length).toBe(11);
    for (const { title, texts } of nodes) {
      const n = expected.get(title.replace("_", "/")) ?? 0;
      expect(texts.at(-1), title).toBe(n === 1 ? "1 payment" : `${n} payments`);
    }
    expect(await svg.locator("text", { hasText: "CANCEL" }).count()).toBeGreaterThan(0);
    await shot(page, "lifecycle-page.png");
    await page.close();
  });

  it("7. every action works with JavaScript disabled", async () => {
    const page = await newPage(noJs);
    // Create a link with the merchant form.
    await page.goto(`${demo.url}/`);
    await page.locator("#description").fill(`Latte ${HOSTILE}`);
    await page.locator("#amount").fill("3.5");
    await page.locator("#currency").selectOption("GBP");
    await page.getByRole("button", { name: "Create link" }).click();
    await page.waitForURL(/done=created/);
    const created = new URL(page.url()).searchParams.get("payment")!;
    expect(await page.getByRole("status").textContent()).toBe(`Payment link ${created} was created.`);
    expect(await row(page, created).locator("[data-field=amount]").textContent()).toBe("3.50 GBP");
    expect(await row(page, created).locator("[data-field=description]").textContent()).toBe(
      `Latte ${HOSTILE}`,
    );
    expect(await get(created)).toMatchObject({ status: "pending", amountTotal: 350, currency: "GBP" });

    // Amounts with 0 and 3 decimals, and a refused one.
    for (const [amount, currency, shown] of [
      ["1500", "JPY", "1500 JPY"],
      ["1.25", "KWD", "1.250 KWD"],
    ] as const) {
      await page.locator("#amount").fill(amount);
      await page.locator("#currency").selectOption(currency);
      await page.getByRole("button", { name: "Create link" }).click();
      await page.waitForURL(/done=created/);
      const id = new URL(page.url()).searchParams.get("payment")!;
      expect(await row(page, id).locator("[data-field=amount]").textContent()).toBe(shown);
    }
    const before = (await listAll()).length;
    await page.locator("#amount").fill("1.001");
    await page.locator("#currency").selectOption("GBP");
    await page.getByRole("button", { name: "Create link" }).click();
    await page.waitForURL(/error=invalid_amount/);
    expect(await page.getByRole("alert").textContent()).toContain("Enter an amount greater than zero");
    expect((await listAll()).length).toBe(before);

    // Decline, then pay, on its hosted page.
    await page.goto(`${demo.url}/pay/${created}`);
    expect((await get(created)).status).toBe("viewed");
    await page.locator("input[name=card]").fill("4000000000000002");
    await payButton(page).click();
    await page.waitForURL(/result=declined/);
    expect((await get(created)).status).toBe("attempted");
    await payButton(page).click(); // the default card is back in the field
    await page.waitForURL(/result=paid/);
    expect((await get(created)).status).toBe("paid");
    expect(await payButton(page).count()).toBe(0);

    // Cancel another link from the merchant page.
    const other = await createLink("To cancel without JavaScript");
    await page.goto(`${demo.url}/`);
    await row(page, other.id).getByRole("button", { name: "Cancel" }).click();
    await page.waitForURL(/done=canceled/);
    expect((await get(other.id)).status).toBe("canceled");
    await page.goto(`${demo.url}/pay/${other.id}`);
    expect(await page.locator(".final").textContent()).toContain("was canceled");

    // The charge's page and an unknown id.
    await page.goto(`${demo.url}/pay/pay_demo_charge`);
    expect(await page.locator(".final").textContent()).toContain("is a charge, not a payment link");
    expect(await page.locator("form").count()).toBe(0);
    const missing = await page.goto(`${demo.url}/pay/pay_nope`);
    expect(missing?.status()).toBe(404);
    expect(await page.locator("h1").textContent()).toBe("Not found");
    await page.goto(`${demo.url}/lifecycle`);
    expect(await page.locator("figure svg").isVisible()).toBe(true);
    await page.close();
  });

  it("8. a form on another origin cannot cancel or pay (403, nothing changes)", async () => {
    const target = await createLink("Target of a cross-site form");
    const evil: Server = createServer((_request, response) => {
      response.setHeader("content-type", "text/html");
      response.end(`<form method="post" action="${demo.url}/merchant/payments/${target.id}/cancel"><button>Cancel it</button></form>
<form method="post" action="${demo.url}/pay/${target.id}/pay"><input name="card" value="4242424242424242"><button>Pay it</button></form>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    try {
      const origin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
      for (const name of ["Cancel it", "Pay it"]) {
        const page = await newPage(noJs);
        await page.goto(origin);
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.url().startsWith(demo.url)),
          page.getByRole("button", { name }).click(),
        ]);
        expect(response.status(), name).toBe(403);
        expect(await page.locator("h1").textContent()).toBe("Refused");
        await page.close();
      }
      expect((await get(target.id)).status).toBe("pending");
    } finally {
      await new Promise((resolve) => evil.close(resolve));
    }
  });

  it("9. no page carries the API key, and no page broke its CSP or opened a dialog", async () => {
    const closed = {
      pay_demo_paid: "This payment link has been paid. Thank you!",
      pay_demo_expired: "This payment link has expired. It can no longer be paid.",
      pay_demo_processing:
        "A payment for this link is in progress. It cannot be paid again while it is processing.",
      pay_demo_canceled: "This payment link was canceled. It can no longer be paid.",
    };
    for (const [id, text] of Object.entries(closed)) {
      const page = await newPage(noJs);
      await page.goto(`${demo.url}/pay/${id}`);
      expect(await page.locator(".final").textContent(), id).toBe(text);
      expect(await payButton(page).count(), id).toBe(0);
      await page.close();
    }
    expect(seenHtml.length).toBeGreaterThan(20);
    for (const html of seenHtml) expect(html).not.toContain(KEY);
    expect(dialogs).toEqual([]);
    // The 403 and 404 answers of tests 7 and 8 are logged as failed loads; anything else (a CSP
    // violation above all) is a fault.
    expect(consoleErrors.filter((text) => !text.startsWith("Failed to load resource"))).toEqual([]);
  });

  it("10. the merchant page shows 50 payments a page; Older and Newest are plain links (no JavaScript)", async () => {
    for (let i = 0; i < 50; i++) await createLink(`Paging ${i}`);
    const payments = await listAll();
    expect(payments.length).toBeGreaterThan(50);
    expect(payments.length).toBeLessThanOrEqual(100);
    const ids = (page: Page) =>
      page.locator("tbody tr[data-id]").evaluateAll((trs) => trs.map((tr) => tr.id));
    const page = await newPage(noJs);
    await page.goto(`${demo.url}/`);
    expect(await ids(page)).toEqual(payments.slice(0, 50).map((p) => p.id));
    expect(await page.getByRole("link", { name: "Newest" }).count()).toBe(0);
    await page.getByRole("link", { name: "Older" }).click();
    await page.waitForURL(/\?starting_after=/);
    expect(await ids(page)).toEqual(payments.slice(50).map((p) => p.id));
    expect(await page.getByRole("link", { name: "Older" }).count()).toBe(0);
    await shot(page, "merchant-older-page.png");
    await page.getByRole("link", { name: "Newest" }).click();
    await page.waitForURL(`${demo.url}/`);
    expect(await ids(page)).toEqual(payments.slice(0, 50).map((p) => p.id));
    await page.close();
  });
});
