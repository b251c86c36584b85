/**
 * One route table feeds the router and the OpenAPI document: every row is served and documented, with
 * the same method, path and dialect, and nothing else is.
 */
import { describe, expect, it } from "vitest";
import { ROUTES } from "../src/routes.js";
import { KEYS, setup } from "./helpers.js";

type Doc = { paths: Record<string, Record<string, { operationId: string; tags: string[] }>> };

describe("the route table", () => {
  it("documents exactly its rows, in its order", async () => {
    const doc = (await (await setup().send("GET", "/openapi.json", { key: null })).json()) as Doc;
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    );
    const rows = ROUTES.map((r) => `${r.method} ${r.operation.path} ${r.operation.operationId}`);
    expect(documented.sort()).toEqual([...rows].sort());
    expect(Object.keys(doc.paths)).toEqual([...new Set(ROUTES.map((r) => r.operation.path))]);
  });

  it("serves every row in its dialect, and answers other methods of its paths with 405 and Allow", async () => {
    const s = setup();
    const ids = await s.seed();
    for (const route of ROUTES) {
      const path = route.routingPath.replace(":id", ids.pending);
      const auth = route.dialect === "dna" ? { key: null, bearer: KEYS.ro } : { key: KEYS.ro };
      const response = await s.send(route.method, path, auth);
      const body = (await response.json()) as Record<string, unknown>;
      // A read-only key: reads answer, writes are refused as forbidden — a route that exists either way.
      expect(response.status, `${route.method} ${path}`).toBe(route.write ? 403 : 200);
      expect("success" in body, path).toBe(route.dialect === "payments");
      const methods = ROUTES.filter((r) => r.routingPath === route.routingPath).map((r) => r.method);
      const other = await s.send("DELETE", path, auth);
      expect(other.status).toBe(405);
      expect(other.headers.get("allow")).toBe(
        [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", "),
      );
    }
  });
});
