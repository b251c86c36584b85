import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_PAYMENTS, type DemoId } from "../seed.js";
import { DEMO_AUTH_FAILURE_LIMIT, type DemoServer, startDemoServer } from "../server.js";

// CI sets the PostgreSQL and NATS variables for other suites; this demo process runs on its SQLite file.
const SQLITE_ONLY = { PAYLINK_PG_URL: "", PAYLINK_NATS_URL: "" };

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../..", import.meta.url));
const dirs: string[] = [];
const tempDb = () => {
  const dir = mkdtempSync(join(tmpdir(), "paylink-demo-"));
  dirs.push(dir);
  return join(dir, "nested", "folder", "demo.db");
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const A = { "x-api-key": "sk_test_demo" };
const B = { authorization: "Bearer sk_test_demo" };

describe("the demo server", () => {
  let demo: DemoServer;
  const logs: string[] = [];
  const dbFile = tempDb();

  it("starts on an ephemeral port, creates the database folder and seeds one payment per state", async () => {
    demo = await startDemoServer({ port: 0, dbFile, log: (line) => logs.push(line) });
    expect(existsSync(dbFile)).toBe(true);
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const expected: Record<DemoId, [string, string]> = {
      pay_demo_pending: ["pending", "active"],
      pay_demo_viewed: ["viewed", "viewed"],
      pay_demo_attempted: ["attempted", "attempted"],
      pay_demo_processing: ["processing", "attempted"],
      pay_demo_paid: ["paid", "paid"],
      pay_demo_canceled: ["canceled", "cancelled"],
      pay_demo_expired: ["expired", "expired"],
      pay_demo_charge: ["pending", "(404)"],
    };
    for (const id of Object.keys(DEMO_PAYMENTS) as DemoId[]) {
      const a = (await (await fetch(`${demo.url}/payments/${id}`, { headers: A })).json()) as {
        data: { status: string; url: string; livemode: boolean };
      };
      expect(a.data.status, id).toBe(expected[id][0]);
      expect(a.data.url).toBe(`${demo.url}/pay/${id}`);
      expect(a.data.livemode).toBe(false);
      const b = await fetch(`${demo.url}/v1/payment-links/${id}`, { headers: B });
      if (id === "pay_demo_charge") expect(b.status).toBe(404);
      else expect(((await b.json()) as { status: string }).status, id).toBe(expected[id][1]);
    }
    const banner = demo.banner.join("\n");
    for (const id of Object.keys(DEMO_PAYMENTS)) expect(banner).toContain(`${demo.url}/pay/${id}`);
    expect(banner).toContain(`${demo.url}/docs`);
    expect(banner).toContain(`  Merchant page   ${demo.url}/ `);
    expect(banner).toContain(`  Lifecycle       ${demo.url}/lifecycle `);
    expect(banner).toContain("sk_test_demo");
  });

  it("the three printed curl lines cancel, do nothing, and are refused", async () => {
    expect(demo.curl).toHaveLength(3);
    for (const line of demo.curl) expect(demo.banner).toContain(`  ${line}`);
    const outputs = [];
    for (const line of demo.curl) {
      const { stdout } = await run("bash", ["-c", `${line} -s -w '\\n%{http_code}'`]);
      const lines = stdout.trimEnd().split("\n");
      outputs.push({ status: Number(lines.pop()), body: JSON.parse(lines.join("\n")) });
    }
    const [cancel, again, refused] = outputs;
    expect(cancel!.status).toBe(200);
    expect(cancel!.body.data).toMatchObject({ id: "pay_demo_pending", status: "canceled" });
    expect(again).toEqual(cancel);
    expect(refused!.status).toBe(409);
    expect(refused!.body.error).toMatchObject({
      code: "charge_not_cancelable",
      doc_url: `${demo.url}/docs/errors.md#charge_not_cancelable`,
    });
  });

  it("logs one line per request — method, path, status, ms — and never the key", async () => {
    logs.length = 0;
    await fetch(`${demo.url}/payments/pay_demo_paid?secret=1`, { headers: A });
    await fetch(`${demo.url}/v1/payment-links/pay_demo_paid/cancellation`, { method: "POST", headers: B });
    await fetch(`${demo.url}/payments/x`, { headers: { "x-api-key": "sk_test_wrong_key" } });
    expect(logs).toHaveLength(3);
    expect(logs[0]).toMatch(/^GET \/payments\/pay_demo_paid 200 \d+\.\dms$/);
    expect(logs[1]).toMatch(/^POST \/v1\/payment-links\/pay_demo_paid\/cancellation 422 \d+\.\dms$/);
    expect(logs[2]).toMatch(/^GET \/payments\/x 401 /);
    expect(logs.join("\n")).not.toMatch(/sk_test|secret/);
  });

  it("serves the hosted page: opening records a view, the buttons pay or fail", async () => {
    const page = await fetch(`${demo.url}/pay/pay_demo_attempted`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("12.00 GBP");
    const paid = await fetch(`${demo.url}/pay/pay_demo_attempted/pay`, {
      method: "POST",
      redirect: "manual",
    });
    expect(paid.status).toBe(303);
    const after = (await (await fetch(`${demo.url}/payments/pay_demo_attempted`, { headers: A })).json()) as {
      data: { status: string };
    };
    expect(after.data.status).toBe("paid");
    const charge = await fetch(`${demo.url}/pay/pay_demo_charge`);
    expect(charge.status).toBe(200);
    expect(await charge.text()).toContain("This is a charge, not a payment link");
    expect((await fetch(`${demo.url}/pay/%00`)).status).toBe(404);
    expect((await fetch(`${demo.url}/pay/%E0%A4%A`)).status).toBe(404);
    const missing = await fetch(`${demo.url}/pay/pay_nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await missing.text()).toContain("There is no payment link at this address.");
  });

  it("serves the merchant page at / and the lifecycle at /lifecycle, with a strict CSP and no key", async () => {
    for (const path of ["/", "/lifecycle", "/pay/pay_demo_paid", "/pay/pay_nope"]) {
      const response = await fetch(`${demo.url}${path}`);
      expect(response.headers.get("content-type"), path).toBe("text/html; charset=utf-8");
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; /);
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toContain("unsafe");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      const text = await response.text();
      expect(text, path).not.toContain("sk_test");
      expect(text, path).not.toMatch(/<script/i);
    }
    const merchant = await (await fetch(`${demo.url}/`)).text();
    expect(merchant).toContain('action="/merchant/payments/pay_demo_viewed/cancel"');
    expect(merchant).not.toContain('action="/merchant/payments/pay_demo_paid/cancel"');
    expect(merchant).not.toContain('action="/merchant/payments/pay_demo_charge/cancel"');
    const lifecycle = await (await fetch(`${demo.url}/lifecycle`)).text();
    expect(lifecycle).toContain("<svg");
    expect(lifecycle).toContain("<title>link_paid</title>");
  });

  it("refuses cross-site form posts (403) and wrong methods, and writes nothing", async () => {
    const post = (path: string, headers: Record<string, string> = {}, body?: string) =>
      fetch(`${demo.url}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        ...(body === undefined ? {} : { body }),
      });
    const cancel = "/merchant/payments/pay_demo_viewed/cancel";
    expect((await post(cancel, { origin: "http://evil.example" })).status).toBe(403);
    expect((await post(cancel, { origin: "null" })).status).toBe(403);
    expect((await post(cancel, { "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post(cancel, { "sec-fetch-site": "same-site" })).status).toBe(403);
    expect(
      (await post("/pay/pay_demo_viewed/pay", { origin: "http://evil.example" }, "card=4242424242424242"))
        .status,
    ).toBe(403);
    expect(
      (await post("/merchant/payments", { "sec-fetch-site": "cross-site" }, "amount=1&currency=GBP")).status,
    ).toBe(403);
    expect((await post(cancel, { "content-type": "text/plain" }, "x")).status).toBe(415);
    expect((await fetch(`${demo.url}${cancel}`)).status).toBe(405);
    expect((await fetch(`${demo.url}/pay/pay_demo_viewed/pay`)).status).toBe(405);
    expect((await fetch(`${demo.url}/`, { method: "POST" })).status).toBe(405);
    const viewed = (await (await fetch(`${demo.url}/payments/pay_demo_viewed`, { headers: A })).json()) as {
      data: { status: string };
    };
    expect(viewed.data.status).toBe("viewed");

    // The same origin (a browser's own form) works.
    const ok = await post(cancel, { origin: demo.url, "sec-fetch-site": "same-origin" });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/?done=canceled&payment=pay_demo_viewed#pay_demo_viewed");
    const again = await post(cancel, { origin: demo.url });
    expect(again.headers.get("location")).toBe(
      "/?done=already_canceled&payment=pay_demo_viewed#pay_demo_viewed",
    );
    const refused = await post("/merchant/payments/pay_demo_charge/cancel");
    expect(refused.headers.get("location")).toBe(
      "/?error=charge_not_cancelable&payment=pay_demo_charge#pay_demo_charge",
    );
    const page = await (await fetch(`${demo.url}${refused.headers.get("location")}`)).text();
    expect(page).toContain(
      "Could not cancel pay_demo_charge: Charges cannot be canceled; only payment links can.",
    );
    // A forged flash cannot inject markup: only known codes are shown, and ids are checked.
    const forged = await (
      await fetch(`${demo.url}/?error=%3Cb%3E&payment=%3Cscript%3E&status=%3Ci%3E`)
    ).text();
    expect(forged).not.toMatch(/<script|<b>|<i>/);
    const forgedStatus = await (
      await fetch(`${demo.url}/?error=payment_not_cancelable&payment=%3Cscript%3E&status=%3Ci%3E`)
    ).text();
    expect(forgedStatus).toContain("Could not cancel the payment: its status does not allow a cancel.");
    // A charge cannot be paid through its page.
    const charge = await post("/pay/pay_demo_charge/pay", {}, "card=4242424242424242");
    expect(charge.headers.get("location")).toBe("/pay/pay_demo_charge?result=not_payable");
    const chargeNow = (await (
      await fetch(`${demo.url}/payments/pay_demo_charge`, { headers: A })
    ).json()) as {
      data: { status: string };
    };
    expect(chargeNow.data.status).toBe("pending");
  });

  it(`limits failed key checks: after ${DEMO_AUTH_FAILURE_LIMIT.max} unknown keys a client gets 429 with Retry-After`, async () => {
    // A server of its own: the other tests' failures must not count.
    const fresh = await startDemoServer({ port: 0, dbFile: tempDb(), log: () => undefined });
    try {
      const wrong = { "x-api-key": "sk_test_guess" };
      for (let i = 0; i < DEMO_AUTH_FAILURE_LIMIT.max; i++) {
        expect((await fetch(`${fresh.url}/payments/pay_demo_paid`, { headers: wrong })).status).toBe(401);
      }
      const blocked = await fetch(`${fresh.url}/payments/pay_demo_paid`, { headers: wrong });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe(
        "too_many_auth_failures",
      );
      // The pages need no key and are not affected.
      expect((await fetch(`${fresh.url}/pay/pay_demo_paid`)).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });

  it("keeps its state across a restart and does not seed again", async () => {
    await demo.close();
    await demo.close();
    demo = await startDemoServer({ port: 0, dbFile, log: () => undefined });
    const pending = (await (await fetch(`${demo.url}/payments/pay_demo_pending`, { headers: A })).json()) as {
      data: { status: string };
    };
    expect(pending.data.status).toBe("canceled");
    const list = (await (await fetch(`${demo.url}/payments?limit=100`, { headers: A })).json()) as {
      data: unknown[];
    };
    expect(list.data).toHaveLength(8);
    await demo.close();
  });
});

describe("main.ts", () => {
  it("prints the banner, serves, and stops cleanly on SIGTERM", async () => {
    const dbFile = tempDb();
    const child = spawn(join(root, "node_modules/.bin/tsx"), ["examples/server/main.ts"], {
      cwd: root,
      env: {
        ...process.env,
        ...SQLITE_ONLY,
        PORT: "0",
        PAYLINK_DB: dbFile,
        PAYLINK_ALLOWED_HOSTS: "demo.example.com",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!/curl .*pay_demo_charge/.test(out) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const url = /Paylink demo server on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(url, out).toBeDefined();
      const response = await fetch(`${url}/payments/pay_demo_viewed/cancel`, { method: "POST", headers: A });
      expect(response.status).toBe(200);
      // PAYLINK_ALLOWED_HOSTS is read: its name is answered, any other is refused.
      expect(out).toContain("Allowed hosts   localhost, *.localhost, 127.x.x.x, [::1], demo.example.com ");
      const port = Number(new URL(url!).port);
      expect(await statusWithHost(port, "demo.example.com")).toBe(200);
      expect(await statusWithHost(port, "rebind.attacker.example")).toBe(421);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(out).toContain("Stopped.");
      expect(out).toMatch(/POST \/payments\/pay_demo_viewed\/cancel 200/);
    } finally {
      // A failed expectation must not leave the server running.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    }
  }, 60_000);

  it("refuses to start when PAYLINK_ALLOWED_HOSTS holds something that is not a hostname", async () => {
    const failed = await mainRefusesToStart({ PAYLINK_ALLOWED_HOSTS: "ok.example, http://x:1" });
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('PAYLINK_ALLOWED_HOSTS: "http://x:1" is not a hostname');
  }, 30_000);

  it("refuses to start when PAYLINK_WEBHOOK_RETRIES_MS is not a list of milliseconds", async () => {
    const failed = await mainRefusesToStart({ PAYLINK_WEBHOOK_RETRIES_MS: "5s,10s" });
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(
      "PAYLINK_WEBHOOK_RETRIES_MS must be up to 50 comma-separated whole milliseconds",
    );
  }, 30_000);
});

/**
 * Runs `main.ts` with `env` on a new SQLite file and answers how it failed (`undefined` if it exited 0).
 * Were the value accepted, the server would run on: the timeout stops it rather than hang the test.
 */
function mainRefusesToStart(env: Record<string, string>) {
  return run(join(root, "node_modules/.bin/tsx"), ["examples/server/main.ts"], {
    cwd: root,
    env: { ...process.env, ...SQLITE_ONLY, PORT: "0", PAYLINK_DB: tempDb(), ...env },
    timeout: 20_000,
  }).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
}

/** The status of `GET /` sent to 127.0.0.1:`port` with this `Host` (fetch would set its own). */
function statusWithHost(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: "127.0.0.1", port, path: "/", headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}
