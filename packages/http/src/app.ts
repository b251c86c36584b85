import { OpenAPIHono } from "@hono/zod-openapi";
import type { Clock, IdempotencyStore, Payment, PaymentLinks } from "@paylink/core";
import type { EventFeed } from "@paylink/core/store";
import type { WebhookEndpoints } from "@paylink/webhooks";
import type { Context } from "hono";
import { type Authenticate, credentialOf } from "./auth.js";
import { parseJsonObject, readBody } from "./body.js";
import type { Dialect, DialectName, Outcome } from "./dialect.js";
import { dnaApi } from "./dna-api.js";
import { DOCS_CSP, docsPage } from "./docs-page/page.js";
import { DEFAULT_ID_PATTERN, type RawInput, type Services } from "./endpoints.js";
import { httpError, httpErrorsMarkdown, isHttpError } from "./errors.js";
import {
  fingerprintOf,
  IDEMPOTENCY_LEASE_MS,
  IdempotencyStoreError,
  idempotencyKeyOf,
  idempotent,
} from "./idempotency.js";
import {
  type OpenApiContact,
  type OpenApiLicense,
  type OpenApiServer,
  openApiDocument,
  registerOpenApi,
} from "./openapi.js";
import { paymentsApi } from "./payments-api.js";
import { type ProviderAccount, providerWebhookRoutes } from "./provider-webhooks.js";
import { type AuthFailureLimit, AuthFailuresExceeded, limitAuthFailures } from "./rate-limit.js";
import { NOSNIFF, type Reply, toResponse } from "./replies.js";
import { ROUTES, type Route } from "./routes.js";

/** Options of {@link createPaylinkApp}. */
export interface PaylinkAppOptions {
  /** The commands, from `createPaymentLinks`. */
  readonly links: PaymentLinks;
  /** Resolves an API key to `{ accountId, livemode, canWrite }`; see `staticKeys`. */
  readonly authenticate: Authenticate;
  /** Where `Idempotency-Key`s are kept: the same store as the payments (memory, SQLite, Postgres). */
  readonly idempotency: IdempotencyStore;
  /**
   * Merchants' webhook endpoints, from `createWebhookEndpoints` of `@paylink/webhooks`: serves
   * `/webhook_endpoints…` (register, list, get, delete, deliveries, retry). Without it those paths are
   * not served (404 `route_missing`) and `/openapi.json` does not list them.
   */
  readonly webhooks?: WebhookEndpoints;
  /**
   * The store's event feed (every Paylink store implements `EventFeed`): serves `GET /events`. Without it
   * that path is not served (404 `route_missing`) and `/openapi.json` does not list it.
   */
  readonly events?: EventFeed;
  /** Base of `doc_url` in dialect-A errors: `${docsBaseUrl}/docs/errors.md#<code>`. Default "" (this server). */
  readonly docsBaseUrl?: string;
  /** Largest request body accepted, in bytes. Default 64 KiB; larger bodies answer 413. */
  readonly bodyLimitBytes?: number;
  /**
   * How long a request holds its `Idempotency-Key` before a retry of the same request may take it over,
   * in milliseconds: the longest a retry waits after a crash. Default: 10 000.
   */
  readonly idempotencyLeaseMs?: number;
  /** Time source for idempotency-key expiry. Default: the system clock. */
  readonly clock?: Clock;
  /** Payment ids worth a lookup; others are 404 at once. Default `/^[A-Za-z0-9_.:-]{1,255}$/`. */
  readonly idPattern?: RegExp;
  /** `info` of the OpenAPI document. */
  readonly title?: string;
  readonly version?: string;
  /**
   * `servers` of the OpenAPI document: where clients generated from it send requests. Default
   * `[{ url: "/" }]`, the origin that serves the document; give the public URL when the app is mounted
   * under a prefix or behind another origin.
   */
  readonly servers?: readonly OpenApiServer[];
  /** `info.contact` of the OpenAPI document. Default `{ name: "Paylink" }`. */
  readonly contact?: OpenApiContact;
  /** `info.license` of the OpenAPI document. Default MIT, Paylink's own. */
  readonly license?: OpenApiLicense;
  /**
   * Called with every unexpected failure (a store error, a throwing `authenticate` …) before the client
   * gets a bodyless 500/503. Default: one `console.error` line. Never receives API keys.
   */
  readonly onError?: (error: unknown, request: { method: string; path: string }) => void;
  /**
   * Limit on failed API-key checks per client (a brute-force brake), e.g. `{ max: 20, windowMs: 60_000 }`.
   * A client over it gets 429 `too_many_auth_failures` with `Retry-After` for every request carrying a
   * key, valid or not, without `authenticate` being called; other clients and successes are untouched.
   * Clients are told apart by socket address under `serve`: behind a proxy, pass `clientOf`. See
   * {@link AuthFailureLimit} for the exact rule. Default `false` (off).
   */
  readonly authFailureLimit?: AuthFailureLimit | false;
  /**
   * Payment-provider accounts whose webhooks come in here: each is served at
   * `POST /webhooks/${gateway.provider}` (`/webhooks/stripe`, `/webhooks/dna`, `/webhooks/test`). One
   * provider account is one Paylink account and mode (`scope`), and one provider is given at most once.
   * No API key: the provider's signature, checked by `gateway.parseWebhook` on the raw body, is the
   * authentication. Each event is recorded once per account and mode (a redelivery replays the first
   * answer) and its payment events go through the machine. Not part of the merchant API: these paths are
   * not in `/openapi.json`. See the README ("Provider webhooks"). Default: none (404 `route_missing`).
   */
  readonly providers?: readonly ProviderAccount[];
}

/** True when the request came through `@hono/node-server` over HTTP/1.x (its bindings carry `incoming`). */
const isHttp1 = (env: unknown): boolean => {
  const incoming = (env as { incoming?: { httpVersionMajor?: unknown } } | undefined)?.incoming;
  return typeof incoming === "object" && incoming !== null && incoming.httpVersionMajor === 1;
};

/** The raw parts of a request for an endpoint's parser; the URL (for the query) is parsed only if asked for. */
class RequestInput implements RawInput {
  #url: URL | undefined;
  constructor(
    private readonly request: Request,
    readonly body: Record<string, unknown>,
    readonly params: Readonly<Record<string, string>>,
  ) {}
  get url(): URL {
    this.#url ??= new URL(this.request.url);
    return this.#url;
  }
  get query(): URLSearchParams {
    return this.url.searchParams;
  }
}

/** Store failures hidden inside an error object (core's `store_unavailable` carries them as `cause`). */
const describe = (error: unknown): string => {
  if (error instanceof IdempotencyStoreError) return `idempotency store: ${describe(error.cause)}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
};

/**
 * The Paylink HTTP app: both API dialects, `/openapi.json`, `/docs` and `/docs/errors.md`, as a Hono app
 * whose `fetch` is a standard fetch handler (Node via `serve`, Bun, Deno, workers).
 *
 * @example
 * const store = createMemoryStore();
 * const app = createPaylinkApp({
 *   links: createPaymentLinks({ store }),
 *   idempotency: store,
 *   authenticate: staticKeys({ sk_test_demo: { accountId: "acct_demo", livemode: false, canWrite: true } }),
 * });
 * const response = await app.fetch(new Request("http://x/payments/pay_1", { headers: { "x-api-key": "sk_test_demo" } }));
 */
export function createPaylinkApp(options: PaylinkAppOptions): OpenAPIHono {
  const { links, authenticate, idempotency } = options;
  const services: Services = { links, webhooks: options.webhooks, events: options.events };
  // Only the routes whose optional part the app has: the router and the document both read this list.
  const served = ROUTES.filter((route) => route.needs === undefined || services[route.needs] !== undefined);
  const docsBaseUrl = (options.docsBaseUrl ?? "").replace(/\/+$/, "");
  const bodyLimit = options.bodyLimitBytes ?? 64 * 1024;
  const clock = options.clock;
  const now = clock === undefined ? () => new Date() : () => clock.now();
  const idPattern = options.idPattern ?? DEFAULT_ID_PATTERN;
  const checkKey = limitAuthFailures(authenticate, options.authFailureLimit, () => now().getTime());
  const leaseMs = options.idempotencyLeaseMs ?? IDEMPOTENCY_LEASE_MS;
  const report =
    options.onError ??
    ((error: unknown, request: { method: string; path: string }) =>
      console.error(
        `[paylink/http] ${request.method} ${request.path.slice(0, 200)} failed: ${describe(error)}`,
      ));

  const dialects: Readonly<Record<DialectName, Dialect>> = {
    payments: paymentsApi(docsBaseUrl),
    dna: dnaApi(),
  };
  // Reads of the payments API also show a payment's `providerState` (when it has one); writes never do.
  const paymentsRead = paymentsApi(docsBaseUrl, { providerState: true });
  const dialectOf = (path: string) =>
    path === "/v1" || path.startsWith("/v1/") ? dialects.dna : dialects.payments;
  // The response a keyed command stores in its own write: the same bytes the dialect answers.
  const storedIn = (dialect: Dialect) => (payment: Payment) => {
    const { status, body } = dialect.write({ payment });
    return { status, body };
  };
  const respond = { payments: storedIn(dialects.payments), dna: storedIn(dialects.dna) };

  /** An outcome in its dialect: the one place a request's answer is written (a hidden cause is logged). */
  const write = (dialect: Dialect, outcome: Outcome, request: Request, path: string): Reply => {
    if ("refused" in outcome && outcome.refused.code === "store_unavailable") {
      report(outcome.refused.cause, { method: request.method, path });
    }
    return dialect.write(outcome);
  };

  /** Runs one route: authenticate, authorize, read and parse, then (for POST) idempotency, then the work. */
  async function handle(c: Context, route: Route, dialect: Dialect): Promise<Response> {
    const request = c.req.raw;
    const path = c.req.path;
    try {
      const credential = credentialOf(request.headers, dialect.allowApiKeyHeader);
      if (!credential.ok) return toResponse(dialect.write(credential.error));
      const principal = await checkKey(credential.key, request, c.env);
      if (principal === undefined) {
        return toResponse(dialect.write(httpError("api_key_invalid", "Invalid API key.")));
      }
      if (principal instanceof AuthFailuresExceeded) {
        const seconds = principal.retryAfterSeconds;
        const message = `Too many failed API key checks from this client; retry in ${seconds} s.`;
        return toResponse(
          dialect.write(httpError("too_many_auth_failures", message, { retryAfterSeconds: seconds })),
        );
      }
      if (route.write && !principal.canWrite) {
        return toResponse(
          dialect.write(httpError("key_not_permitted", "This API key is read-only; it cannot make changes.")),
        );
      }
      const scope = { accountId: principal.accountId, livemode: principal.livemode };

      let bodyText = "";
      let body: Record<string, unknown> = {};
      let idempotencyKey: string | undefined;
      if (route.readsBody) {
        const key = idempotencyKeyOf(request.headers);
        if (!key.ok) return toResponse(dialect.write(key.error));
        idempotencyKey = key.key;
        // Most writes (every cancel) have no body: then nothing is awaited.
        let raw = readBody(request, bodyLimit, isHttp1(c.env));
        if (raw instanceof Promise) raw = await raw;
        if (!raw.ok) return toResponse(dialect.write(raw.error));
        bodyText = raw.text;
        const parsed = parseJsonObject(bodyText, request.headers.get("content-type"), route.bodyRequired);
        if (!parsed.ok) return toResponse(dialect.write(parsed.error));
        body = parsed.value;
      }
      const parts = new RequestInput(request, body, c.req.param() as Record<string, string>);
      const input = route.endpoint.parse(parts, idPattern);
      if (!input.ok) return toResponse(write(dialect, input.error, request, path));

      if (idempotencyKey === undefined) {
        const outcome = await route.endpoint.run(services, { scope, command: undefined }, input.value);
        return toResponse(write(dialect, outcome, request, path));
      }
      const { pathname, search } = parts.url;
      const key = idempotencyKey;
      const reply = await idempotent(
        idempotency,
        scope,
        key,
        fingerprintOf(request.method, pathname + search, bodyText),
        now(),
        leaseMs,
        async (token, stored) => {
          const command = { idempotency: { key, token, respond: respond[dialect.name], onStored: stored } };
          return write(
            dialect,
            await route.endpoint.run(services, { scope, command }, input.value),
            request,
            path,
          );
        },
        (error) => report(error, { method: request.method, path }),
      );
      return toResponse(isHttpError(reply) ? dialect.write(reply) : reply);
    } catch (error) {
      report(error, { method: request.method, path });
      return toResponse(
        dialect.write(
          error instanceof IdempotencyStoreError
            ? httpError("store_unavailable", "The service is temporarily unavailable; nothing was changed.")
            : httpError("internal_error", "Something went wrong on our side."),
        ),
      );
    }
  }

  const app = new OpenAPIHono({ strict: true });

  type Handler = (c: Context) => Response | Promise<Response>;
  /** Path → method → handler. Each path gets ONE Hono route (see below). */
  const paths = new Map<string, Map<string, Handler>>();
  const on = (method: Route["method"], path: string, handler: Handler) => {
    const methods = paths.get(path) ?? new Map<string, Handler>();
    methods.set(method, handler);
    paths.set(path, methods);
  };
  for (const route of served) {
    const dialect =
      route.dialect === "payments" && route.method === "GET" ? paymentsRead : dialects[route.dialect];
    on(route.method, route.routingPath, (c) => handle(c, route, dialect));
  }

  // Provider webhooks: outside the route table (no API key, no dialect, not in the OpenAPI document).
  // Each path answers every method itself (405 with `Allow: POST` but for POST).
  const providerRoutes = providerWebhookRoutes(options.providers ?? [], {
    links,
    idempotency,
    now,
    leaseMs,
    report,
  });
  for (const [path, handler] of providerRoutes) {
    app.all(path, (c) => handler(c.req.raw, isHttp1(c.env)));
  }

  // Documentation: the OpenAPI 3.1 document (generated once, on first request, from the route table),
  // the reference page and the error catalogue that `doc_url` points at.
  registerOpenApi(app, served);
  const title = options.title ?? "Paylink API";
  let document: string | undefined;
  on("GET", "/openapi.json", (c) => {
    document ??= openApiDocument(
      app,
      {
        title,
        version: options.version ?? "0.1.0",
        servers: options.servers ?? [{ url: "/" }],
        contact: options.contact ?? { name: "Paylink" },
        license: options.license ?? { name: "MIT", url: "https://opensource.org/license/mit" },
      },
      served,
    );
    return c.body(document, 200, { "content-type": "application/json; charset=utf-8", ...NOSNIFF });
  });
  const page = docsPage(title);
  on("GET", "/docs", (c) =>
    c.body(page, 200, {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": DOCS_CSP,
      ...NOSNIFF,
      "referrer-policy": "no-referrer",
    }),
  );
  const errorsMd = `# Errors\n\n${httpErrorsMarkdown()}`;
  on("GET", "/docs/errors.md", (c) =>
    c.body(errorsMd, 200, { "content-type": "text/markdown; charset=utf-8", ...NOSNIFF }),
  );

  // One Hono route per path, whatever the method: it runs the path's handler for the method (HEAD runs
  // GET's, as in Hono), or answers 405 with `Allow` in the path's dialect. A single matching handler keeps
  // Hono on its direct path (no middleware composition for every request).
  for (const [path, methods] of paths) {
    const names = [...methods.keys()];
    const allow = [...names, ...(methods.has("GET") ? ["HEAD"] : [])].join(", ");
    app.all(path, (c) => {
      const method = c.req.method;
      const handler = methods.get(method === "HEAD" ? "GET" : method);
      if (handler !== undefined) return handler(c);
      const reply = dialectOf(c.req.path).write(
        httpError("method_not_allowed", `${method} is not allowed here; use ${names.join(" or ")}.`),
      );
      return toResponse({ ...reply, headers: { ...reply.headers, Allow: allow } });
    });
  }

  app.notFound((c) =>
    toResponse(dialectOf(c.req.path).write(httpError("route_missing", "No endpoint has this path."))),
  );
  app.onError((error, c) => {
    report(error, { method: c.req.method, path: c.req.path });
    return toResponse(
      dialectOf(c.req.path).write(httpError("internal_error", "Something went wrong on our side.")),
    );
  });
  return app;
}
