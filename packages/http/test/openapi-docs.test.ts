import { runInNewContext } from "node:vm";
import { HTTP_ERRORS, httpErrorsMarkdown } from "@paylink/http";
import { describe, expect, it } from "vitest";
import { setup } from "./helpers.js";

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>
  >;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
};

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document with every route of both dialects, generated from the zod schemas", async () => {
    const s = setup();
    const response = await s.send("GET", "/openapi.json", { key: null });
    expect(response.status).toBe(200);
    const doc = (await response.json()) as Doc;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/payments",
      "/payments/{id}",
      "/payments/{id}/cancel",
      "/v1/payment-links",
      "/v1/payment-links/{id}",
      "/v1/payment-links/{id}/cancellation",
    ]);
    expect(Object.keys(doc.paths["/payments"]!).sort()).toEqual(["get", "post"]);
    const cancel = doc.paths["/payments/{id}/cancel"]!.post!;
    expect(Object.keys(cancel.responses).sort()).toEqual(
      ["200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "500", "503"].sort(),
    );
    expect(cancel.parameters?.map((p) => p.name)).toEqual(["id", "Idempotency-Key"]);
    expect(Object.keys(doc.paths["/v1/payment-links/{id}/cancellation"]!.post!.responses)).toContain("422");
    const payment = doc.components.schemas.Payment!;
    expect(Object.keys(payment.properties!)).toHaveLength(17);
    expect(Object.keys(doc.components.schemas.DnaPaymentLink!.properties!)).toHaveLength(15);
    expect(doc.components.schemas.Error).toBeDefined();
    expect(doc.components.schemas.DnaCreatePaymentLink!.required).toEqual(
      expect.arrayContaining(["amount", "currency", "terminalId", "expirationDate", "customerName"]),
    );
  });
});

describe("GET /docs", () => {
  it("is a self-contained page: inline script and style only, locked down by CSP", async () => {
    const s = setup();
    const response = await s.send("GET", "/docs", { key: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = response.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html).toContain("<script>");
  });

  it("renders every operation of openapi.json with a try-it form, and sends requests to the same server", async () => {
    const s = setup();
    await s.seed();
    const html = await (await s.send("GET", "/docs", { key: null })).text();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;

    // A small stub DOM, enough for the renderer.
    const elements = new Map<string, { innerHTML: string; textContent: string; value: string }>();
    const element = (id: string) => {
      if (!elements.has(id)) elements.set(id, { innerHTML: "", textContent: "", value: "" });
      return elements.get(id)!;
    };
    element("api-key").value = "sk_test_rw_0123456789";
    element("key-mode").value = "x-api-key";
    const submitted: ((event: { preventDefault(): void }) => void)[] = [];
    const result = { innerHTML: "" };
    const inputs = [
      { name: "path:id", value: "pay_0001" },
      { name: "header:Idempotency-Key", value: "" },
    ];
    const app = Object.assign(element("app"), {
      querySelectorAll: () => [
        {
          getAttribute: () => "0",
          addEventListener: (_: string, fn: (event: { preventDefault(): void }) => void) =>
            submitted.push(fn),
          querySelector: (selector: string) => (selector === ".result" ? result : null),
          querySelectorAll: () => inputs,
        },
      ],
    });
    const requests: { url: string; init: RequestInit }[] = [];
    const fetchStub = async (url: string, init: RequestInit = {}) => {
      requests.push({ url, init });
      const headers = new Headers(init.headers as Record<string, string>);
      return s.app.fetch(new Request(new URL(url, "http://paylink.test/docs"), { ...init, headers }));
    };
    runInNewContext(script, {
      document: { getElementById: (id: string) => (id === "app" ? app : element(id)) },
      fetch: fetchStub,
      Date,
      JSON,
      Object,
      String,
      Number,
      Array,
      encodeURIComponent,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rendered = app.innerHTML;
    for (const path of [
      "/payments/{id}/cancel",
      "/payments",
      "/payments/{id}",
      "/v1/payment-links/{id}/cancellation",
    ]) {
      expect(rendered).toContain(`<span class=path>${path}</span>`);
    }
    expect(rendered.match(/<form data-op=/g)).toHaveLength(7);
    expect(element("title").textContent).toBe("Paylink API");
    expect(requests[0]!.url).toBe("openapi.json");

    // "Try it" on the first operation (cancel) sends POST payments/pay_0001/cancel with the key.
    submitted[0]!({ preventDefault: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requests[1]!.url).toBe("payments/pay_0001/cancel");
    expect(requests[1]!.init.method).toBe("POST");
    expect(result.innerHTML).toContain("HTTP 200");
    expect(result.innerHTML).toContain("&quot;canceled&quot;");
  });

  it("serves /docs/errors.md with an anchor for every code that doc_url points at", async () => {
    const s = setup();
    const text = await (await s.send("GET", "/docs/errors.md", { key: null })).text();
    for (const code of Object.keys(HTTP_ERRORS)) expect(text).toContain(`\n### ${code}\n`);
    expect(httpErrorsMarkdown()).toContain(
      "| [`payment_not_cancelable`](#payment_not_cancelable) | 409 | 422 |",
    );
  });
});
