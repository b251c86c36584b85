/**
 * A client generated from the demo's `/openapi.json` works against the demo without a cast: the types
 * `openapi-typescript` makes of the document are checked in (`openapi.generated.ts`, which `tsc` checks
 * with this file), the first test fails when they drift from the served document (`vitest -u` rewrites
 * them), and `openapi-fetch` sends typed requests with them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, typesModuleOf } from "../../../packages/http/test/openapi-client.js";
import { DEMO_KEY } from "../seed.js";
import { type DemoServer, startDemoServer } from "../server.js";
import type { paths } from "./openapi.generated.js";

let demo: DemoServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "paylink-openapi-client-"));
  demo = await startDemoServer({ port: 0, dbFile: join(dir, "demo.db"), log: () => {} });
});
afterAll(async () => {
  await demo?.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = () => createClient<paths>({ baseUrl: demo.url, headers: { "x-api-key": DEMO_KEY } });

describe("a client generated from /openapi.json", () => {
  it("has the checked-in types: openapi-typescript makes the same module of the served document", async () => {
    const document = await (await fetch(`${demo.url}/openapi.json`)).text();
    await expect(await typesModuleOf(document)).toMatchFileSnapshot("./openapi.generated.ts");
  });

  it("creates, gets and cancels a link in the payments API, and reads a refusal as the Error schema", async () => {
    const api = client();
    const created = await api.POST("/payments", {
      params: { header: { "Idempotency-Key": `openapi-client-${Date.now()}` } },
      body: {
        customerId: "cus_openapi",
        provider: "stripe",
        amountSubtotal: 1000,
        taxAmount: 200,
        currency: "GBP",
        description: "Typed client",
        metadata: { order: "T-1" },
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      },
    });
    expect(created.response.status).toBe(200);
    const id = created.data?.data.id ?? "";
    expect(created.data?.data).toMatchObject({ status: "pending", amountTotal: 1200, kind: "link" });

    const got = await api.GET("/payments/{id}", { params: { path: { id } } });
    expect(got.data?.data).toEqual(created.data?.data);

    const canceled = await api.POST("/payments/{id}/cancel", { params: { path: { id } } });
    expect(canceled.data?.data.status).toBe("canceled");
    const again = await api.POST("/payments/{id}/cancel", { params: { path: { id } } });
    expect(again.data?.data).toEqual(canceled.data?.data);

    const charge = await api.POST("/payments/{id}/cancel", { params: { path: { id: "pay_demo_charge" } } });
    expect(charge.response.status).toBe(409);
    expect(charge.data).toBeUndefined();
    expect(charge.error?.error.code).toBe("charge_not_cancelable");
  });

  it("creates, gets and cancels a link in the DNA API, with its decimal amounts and status words", async () => {
    const api = createClient<paths>({ baseUrl: demo.url, headers: { Authorization: `Bearer ${DEMO_KEY}` } });
    const created = await api.POST("/v1/payment-links", {
      body: {
        amount: "12.50",
        currency: "GBP",
        terminalId: "4511a14f-61a3-4449-a1c1-7a314ee2374c",
        customerName: "Typed",
        expirationDate: new Date(Date.now() + 86_400_000).toISOString(),
      },
    });
    expect(created.response.status).toBe(200);
    const id = created.data?.id ?? "";
    expect(created.data).toMatchObject({ amount: 12.5, status: "active", customerName: "Typed" });

    const got = await api.GET("/v1/payment-links/{id}", { params: { path: { id } } });
    expect(got.data).toEqual(created.data);

    const canceled = await api.POST("/v1/payment-links/{id}/cancellation", { params: { path: { id } } });
    expect(canceled.data?.status).toBe("cancelled");
    expect(canceled.data?.cancelledDate).toEqual(expect.any(String));

    const paid = await api.POST("/v1/payment-links/{id}/cancellation", {
      params: { path: { id: "pay_demo_paid" } },
    });
    expect(paid.response.status).toBe(422);
    expect(paid.error).toEqual({ code: "payment_not_cancelable", message: expect.any(String) });
  });
});
