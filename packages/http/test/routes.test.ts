/**
 * One route table feeds the router and the OpenAPI document: every row is served and documented, with
 * the same method, path and dialect, and nothing else is. Rows that need `webhooks` or `events` are
 * served and documented only when the app has them.
 */
import { describe, expect, it } from "vitest";
import { ROUTES } from "../src/routes.js";
import { KEYS, setup } from "./helpers.js";
import { setupDelivery } from "./webhook-setup.js";

type Doc = {
  paths: Record<string, Record<string, { operationId: string; tags: string[] }>>;
  tags: { name: string }[];
};

const documented = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
  );
const rowsOf = (routes: typeof ROUTES) =>
  routes.map((r) => `${r.method} ${r.operation.path} ${r.operation.operationId}`);

describe("the route table", () => {
  it("documents exactly its rows, in its order, when the app has every part", async () => {
    const doc = (await (await setupDelivery().send("GET", "/openapi.json", { key: null })).json()) as Doc;
    expect(documented(doc).sort()).toEqual(rowsOf(ROUTES).sort());
    expect(Object.keys(doc.paths)).toEqual([...new Set(ROUTES.map((r) => r.operation.path))]);
    expect(doc.tags.map((t) => t.name)).toEqual([...new Set(ROUTES.map((r) => r.tag.name))]);
  });

  it("without webhooks and events, neither serves nor documents their rows, nor declares their tags", async () => {
    const s = setup();
    const doc = (await (await s.send("GET", "/openapi.json", { key: null })).json()) as Doc;
    const core = ROUTES.filter((r) => r.needs === undefined);
    expect(core.length).toBeLessThan(ROUTES.length);
    expect(documented(doc).sort()).toEqual(rowsOf(core).sort());
    expect(doc.tags.map((t) => t.name)).toEqual(["Payments (dialect A)", "DNA payment links (dialect B)"]);
    for (const route of ROUTES.filter((r) => r.needs !== undefined)) {
      const path = route.routingPath.replace(":id", "we_1").replace(":deliveryId", "whd_1");
      const response = await s.send(route.method, path, { json: route.readsBody ? {} : undefined });
      expect(response.status, `${route.method} ${path}`).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("route_missing");
    }
    // With only one of them, only its rows.
    const eventsOnly = setup((store) => ({ events: store }));
    expect((await eventsOnly.send("GET", "/events")).status).toBe(200);
    expect((await eventsOnly.send("GET", "/webhook_endpoints")).status).toBe(404);
  });

  it("serves every row in its dialect, and answers other methods of its paths with 405 and Allow", async () => {
    const s = setupDelivery();
    const ids = await s.seed();
    const created = await s.send("POST", "/webhook_endpoints", {
      json: { url: "https://hooks.example.com/in" },
    });
    const endpointId = ((await created.json()) as { data: { id: string } }).data.id;
    for (const route of ROUTES) {
      const id = route.routingPath.startsWith("/webhook_endpoints") ? endpointId : ids.pending;
      const path = route.routingPath.replace(":id", id).replace(":deliveryId", "whd_none");
      const auth = route.dialect === "dna" ? { key: null, bearer: KEYS.ro } : { key: KEYS.ro };
      const response = await s.send(route.method, path, auth);
      const body = (await response.json()) as Record<string, unknown>;
      // A read-only key: reads answer, writes are refused as forbidden — a route that exists either way.
      expect(response.status, `${route.method} ${path}`).toBe(route.write ? 403 : 200);
      expect("success" in body, path).toBe(route.dialect === "payments");
      const methods = ROUTES.filter((r) => r.routingPath === route.routingPath).map((r) => r.method);
      const other = await s.send("PATCH", path, auth);
      expect(other.status).toBe(405);
      expect(other.headers.get("allow")).toBe(
        [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", "),
      );
    }
  });
});
