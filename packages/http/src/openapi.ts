/** The OpenAPI 3.1 document of the app, built from the route table (`routes.ts`) and its zod schemas. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { type Route, TAGS } from "./route.js";

/** A server of the OpenAPI document (`servers[]`). */
export interface OpenApiServer {
  /** Absolute, or relative to where the document is served (`/`). */
  readonly url: string;
  readonly description?: string;
}

/** The contact of the OpenAPI document (`info.contact`). */
export interface OpenApiContact {
  readonly name?: string;
  readonly url?: string;
  readonly email?: string;
}

/** The license of the OpenAPI document (`info.license`). */
export interface OpenApiLicense {
  readonly name: string;
  readonly url?: string;
}

/** What the document says about itself; see the options of `createPaylinkApp`. */
export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly servers: readonly OpenApiServer[];
  readonly contact: OpenApiContact;
  readonly license: OpenApiLicense;
}

/** Registers the routes the app serves, and the security schemes they name, in the app's registry. */
export function registerOpenApi(app: OpenAPIHono, routes: readonly Route[]): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent("securitySchemes", "ApiKeyAuth", {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "Dialect A only. The same key also works as `Authorization: Bearer <key>`.",
  });
  registry.registerComponent("securitySchemes", "BearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "`Authorization: Bearer <key>`; both dialects.",
  });
  for (const route of routes) registry.registerPath(route.operation);
}

/**
 * The document of an app whose `routes` {@link registerOpenApi} registered, as JSON text. It declares the
 * tags those routes use, and no other.
 */
export function openApiDocument(app: OpenAPIHono, info: OpenApiInfo, routes: readonly Route[]): string {
  const used = new Set(routes.map((route) => route.tag.name));
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      description:
        "Payment links over two dialects of one core: the payments API (`/payments…`) and the DNA Payments API (`/v1/payment-links…`). Errors: /docs/errors.md.",
      contact: { ...info.contact },
      license: { ...info.license },
    },
    servers: info.servers.map((server) => ({ ...server })),
    tags: Object.values(TAGS)
      .filter((tag) => used.has(tag.name))
      .map((tag) => ({ ...tag })),
  });
  return JSON.stringify(document);
}
