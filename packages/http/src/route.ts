/**
 * One row of the route table (`routes.ts`) and how it is built from a declaration: the router (`app.ts`)
 * and the OpenAPI document (`openapi.ts`) both read rows, so neither can list a route the other lacks.
 */
import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import type { DialectName } from "./dialect.js";
import type { Endpoint } from "./endpoints.js";
import { HTTP_ERRORS } from "./errors.js";
import { DnaError, ErrorA } from "./schemas.js";

/** What a route needs beyond the payment commands; without it the app neither serves nor documents it. */
export type RouteNeeds = "webhooks" | "events";

/** One row of the table, as the router and the OpenAPI document read it. */
export interface Route {
  readonly dialect: DialectName;
  readonly method: "GET" | "POST" | "DELETE";
  /** The path in Hono's syntax (`/payments/:id`). */
  readonly routingPath: string;
  /** A POST or DELETE: needs a key that can write. */
  readonly write: boolean;
  /** A POST: reads the body and honours `Idempotency-Key`. */
  readonly readsBody: boolean;
  /** For a POST: must the body be a JSON object (`true`), or may it be empty (`false`, cancel)? */
  readonly bodyRequired: boolean;
  /** The option of `createPaylinkApp` the route needs, if any (see {@link RouteNeeds}). */
  readonly needs: RouteNeeds | undefined;
  /** The tag of the operation, declared once at the document's top level. */
  readonly tag: Tag;
  readonly endpoint: Endpoint<unknown>;
  /** The operation in the OpenAPI document. */
  readonly operation: RouteConfig;
}

/** A tag of the OpenAPI document. */
export interface Tag {
  readonly name: string;
  readonly description: string;
}

/** Every tag, in the order the document declares them (only those of served routes are declared). */
export const TAGS = {
  payments: {
    name: "Payments (dialect A)",
    description:
      "The payments API: `/payments…`, `{ success, data }` envelopes, amounts as integers in minor units, refusals by a payment's state as 409. The key goes in `x-api-key` or `Authorization: Bearer`.",
  },
  dna: {
    name: "DNA payment links (dialect B)",
    description:
      "DNA Payments' payment-link API: `/v1/payment-links…`, DNA's fields and status words, decimal amounts in major units, `{ code, message }` errors with refusals as 422. The key goes in `Authorization: Bearer`. Charges are not payment links and are never found here.",
  },
  webhooks: {
    name: "Webhook endpoints",
    description:
      "Where a merchant's events are posted, signed per Standard Webhooks, and what became of each delivery. In the payments API's dialect (envelopes, keys, errors). Served when the server is given `webhooks`.",
  },
  events: {
    name: "Events",
    description:
      "The domain events of the key's account and mode, oldest first, each exactly the JSON body a webhook receives. In the payments API's dialect. Served when the server is given `events`.",
  },
} as const satisfies Record<string, Tag>;

/** What the operations of one dialect share in the OpenAPI document. */
interface DialectDocs {
  readonly security: Record<string, string[]>[];
  readonly errorSchema: z.ZodType;
}

const DIALECT_DOCS: Readonly<Record<DialectName, DialectDocs>> = {
  payments: { security: [{ ApiKeyAuth: [] }, { BearerAuth: [] }], errorSchema: ErrorA },
  dna: { security: [{ BearerAuth: [] }], errorSchema: DnaError },
};

const REASONS: Record<number, string> = {
  400: "Invalid request",
  401: "No or unknown API key",
  403: "The key may not do this",
  404: "No such payment",
  409: "Refused by the payment's state, or a concurrent request",
  413: "Body too large",
  415: "Body is not application/json",
  422: "Refused",
  429: "Too many failed API key checks from this client (when the server limits them); retry after `Retry-After`",
  500: "Internal error",
  503: "Store unavailable; retry",
};

const codesWith = (status: number, dialect: DialectName) =>
  Object.entries(HTTP_ERRORS)
    .filter(([, spec]) => (dialect === "payments" ? spec.status : spec.dnaStatus) === status)
    .map(([code]) => `\`${code}\``)
    .join(", ");

/**
 * The error statuses an operation can answer, from what it does: every operation authenticates and
 * reads the store; a path with `{id}` can miss; a POST (or a query) can be invalid; a write can be
 * forbidden, and a POST can also be refused, too large, of the wrong type or a reused key.
 */
function errorStatuses(method: Route["method"], hasId: boolean, hasQuery: boolean): number[] {
  const statuses = [401, 429, 500, 503];
  if (hasId) statuses.push(404);
  if (method === "POST" || hasQuery) statuses.push(400);
  if (method !== "GET") statuses.push(403);
  if (method === "POST") statuses.push(409, 413, 415, 422);
  return statuses.sort((a, b) => a - b);
}

const pathParam = (name: string, example: string) =>
  z.string().openapi({ param: { name, in: "path" }, example });

const IdempotencyHeader = z.object({
  "Idempotency-Key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({
      param: {
        name: "Idempotency-Key",
        in: "header",
        description:
          "Makes the POST safe to retry for 24 h: a repeat replays the first response (`Idempotent-Replayed: true`); the same key with another body is 422.",
      },
      example: "7c8e1f0e-0d3b-4c39-9c1b-5b0d3f6a2a11",
    }),
});

/** A row as the table writes it. */
export interface Declaration<I> {
  readonly operationId: string;
  readonly method: "get" | "post" | "delete";
  /** The path in OpenAPI's syntax (`/payments/{id}`). */
  readonly path: string;
  readonly dialect: DialectName;
  /** Default: the dialect's own tag. */
  readonly tag?: keyof typeof TAGS;
  readonly needs?: RouteNeeds;
  readonly summary: string;
  readonly description: string;
  /** Examples of the path parameters. Default `{ id: "pay_demo_pending" }`. */
  readonly params?: Readonly<Record<string, string>>;
  /** What an error status means here, where it differs from the usual (`404: "No such payment"` …). */
  readonly reasons?: Readonly<Record<number, string>>;
  readonly query?: z.ZodObject;
  readonly body?: { readonly schema: z.ZodType; readonly required: boolean };
  /** The 200 answer. */
  readonly ok: { readonly description: string; readonly schema: z.ZodType };
  readonly endpoint: Endpoint<I>;
}

/** A row from its declaration: the operation for the document, and what the router needs. */
export function route<I>(declaration: Declaration<I>): Route {
  const { path, dialect, query, body, ok } = declaration;
  const method = declaration.method.toUpperCase() as Route["method"];
  const params = declaration.params ?? { id: "pay_demo_pending" };
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const docs = DIALECT_DOCS[dialect];
  const tag = TAGS[declaration.tag ?? dialect];
  const reasons = { ...REASONS, ...declaration.reasons };
  const errors = errorStatuses(method, names.length > 0, query !== undefined);
  const operation = createRoute({
    method: declaration.method,
    path,
    operationId: declaration.operationId,
    tags: [tag.name],
    summary: declaration.summary,
    description: declaration.description,
    security: docs.security,
    request: {
      ...(names.length > 0
        ? {
            params: z.object(
              Object.fromEntries(names.map((name) => [name, pathParam(name, params[name] ?? name)])),
            ),
          }
        : {}),
      ...(query ? { query } : {}),
      // Every POST honours `Idempotency-Key` (app.ts), so every POST documents it.
      ...(method === "POST" ? { headers: IdempotencyHeader } : {}),
      ...(body
        ? { body: { required: body.required, content: { "application/json": { schema: body.schema } } } }
        : {}),
    },
    responses: {
      200: { description: ok.description, content: { "application/json": { schema: ok.schema } } },
      ...Object.fromEntries(
        errors.map((status) => [
          status,
          {
            description: `${reasons[status] ?? "Error"} — ${codesWith(status, dialect)}`,
            content: { "application/json": { schema: docs.errorSchema } },
          },
        ]),
      ),
    },
  });
  return {
    dialect,
    method,
    routingPath: operation.getRoutingPath(),
    write: method !== "GET",
    readsBody: method === "POST",
    bodyRequired: body?.required ?? false,
    needs: declaration.needs,
    tag,
    endpoint: declaration.endpoint as Endpoint<unknown>,
    operation,
  };
}
