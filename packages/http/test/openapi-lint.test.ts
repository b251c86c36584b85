/**
 * The OpenAPI document passes the ecosystem's linters: Redocly's recommended ruleset with no problem at
 * all, and the checks of Spectral's `spectral:oas` ruleset that a generated document can miss.
 */
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { describe, expect, it } from "vitest";
import { setup } from "./helpers.js";
import { setupDelivery } from "./webhook-setup.js";

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
}
interface Doc {
  info: { contact?: Record<string, string>; license?: { name: string; url?: string } };
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const documentOf = async (options: Parameters<typeof setup>[0] = {}) =>
  (await setup(options).send("GET", "/openapi.json", { key: null })).text();
/** The document of an app with every optional part: webhook endpoints and the event feed too. */
const fullDocument = async () => (await setupDelivery().send("GET", "/openapi.json", { key: null })).text();

describe.each([
  ["payments only", documentOf, 2, 7],
  ["with webhooks and events", fullDocument, 4, 14],
])("the OpenAPI document (%s), linted", (_, document, tags, operations) => {
  it("has no problem under Redocly's recommended ruleset, errors and warnings alike", async () => {
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({
      source: await document(),
      absoluteRef: "openapi.json",
      config,
    });
    const found = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(found).toEqual([]);
  });

  it("meets spectral:oas: contact, license with a URL, servers, tags declared with descriptions, every operation described", async () => {
    const doc = JSON.parse(await document()) as Doc;
    expect(doc.info.contact).toEqual({ name: "Paylink" });
    expect(doc.info.license).toEqual({ name: "MIT", url: expect.stringMatching(/^https:\/\//) });
    expect(doc.servers).toEqual([{ url: "/" }]);
    const declared = new Map((doc.tags ?? []).map((tag) => [tag.name, tag.description]));
    expect(declared.size).toBe(tags);
    for (const description of declared.values()) expect(description).toEqual(expect.any(String));
    const ids = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const where = `${method} ${path}`;
        expect(operation.summary, where).toEqual(expect.any(String));
        expect(operation.description?.length, where).toBeGreaterThan(20);
        expect(operation.tags?.length, where).toBe(1);
        for (const tag of operation.tags ?? []) expect(declared.has(tag), `${where} tag ${tag}`).toBe(true);
        expect(operation.operationId, where).toMatch(/^[a-zA-Z]+$/);
        ids.add(operation.operationId ?? "");
      }
    }
    expect(ids.size).toBe(operations);
  });
});

describe("the OpenAPI document's options", () => {
  it("takes servers, contact and license from the app's options", async () => {
    const doc = JSON.parse(
      await documentOf({
        servers: [{ url: "https://api.example.com/paylink", description: "Production" }],
        contact: { name: "Payments team", email: "payments@example.com" },
        license: { name: "Proprietary", url: "https://example.com/terms" },
      }),
    ) as Doc;
    expect(doc.servers).toEqual([{ url: "https://api.example.com/paylink", description: "Production" }]);
    expect(doc.info.contact).toEqual({ name: "Payments team", email: "payments@example.com" });
    expect(doc.info.license).toEqual({ name: "Proprietary", url: "https://example.com/terms" });
  });
});
