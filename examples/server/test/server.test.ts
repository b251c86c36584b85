import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_PAYMENTS, type DemoId } from "../seed.js";
import { type DemoServer, startDemoServer } from "../server.js";

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
    expect((await fetch(`${demo.url}/pay/pay_demo_charge`)).status).toBe(404);
    expect((await fetch(`${demo.url}/pay/%00`)).status).toBe(404);
    expect((await fetch(`${demo.url}/`, { redirect: "manual" })).headers.get("location")).toBe("/docs");
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
      env: { ...process.env, PORT: "0", PAYLINK_DB: dbFile },
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
    const deadline = Date.now() + 30_000;
    while (!/curl .*pay_demo_charge/.test(out) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = /Paylink demo server on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(url, out).toBeDefined();
    const response = await fetch(`${url}/payments/pay_demo_viewed/cancel`, { method: "POST", headers: A });
    expect(response.status).toBe(200);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toContain("Stopped.");
    expect(out).toMatch(/POST \/payments\/pay_demo_viewed\/cancel 200/);
  }, 60_000);
});
