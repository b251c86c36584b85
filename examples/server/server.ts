/**
 * The demo server: both API dialects of `@paylink/http` over the embedded SQLite store, a tiny hosted
 * payment page at `/pay/{id}`, one log line per request and a graceful stop.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  type Clock,
  createPaymentLinks,
  type IdempotencyStore,
  type PaymentLinks,
  type PaymentStore,
  toMajorUnits,
} from "@paylink/core";
import { createPaylinkApp, type ServerHandle, serve, staticKeys } from "@paylink/http";
import { createSqliteStore } from "@paylink/store-sqlite";
import { DEMO_ACCOUNT, DEMO_KEY, DEMO_PAYMENTS, DEMO_SCOPE, type DemoId, seedDemo } from "./seed.js";

/** A store the demo can run on, and close when it stops. */
export type DemoStore = PaymentStore & IdempotencyStore & { close(): void };

/** Opens the demo's store: the embedded SQLite file (its folder is created when missing). */
export function openStore(dbFile: string): DemoStore {
  mkdirSync(dirname(resolve(dbFile)), { recursive: true });
  const store = createSqliteStore({ filename: dbFile });
  store.migrate(); // fail fast on a file that is not a Paylink database
  return store;
}

/** Options of {@link startDemoServer}. */
export interface DemoOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** SQLite file; its folder is created. */
  readonly dbFile: string;
  readonly hostname?: string;
  /** Where the one-line-per-request log goes. Default: `console.log`. */
  readonly log?: (line: string) => void;
  /** Time source (tests). Default: the system clock. */
  readonly clock?: Clock;
}

/** A running demo server. */
export interface DemoServer {
  readonly url: string;
  readonly port: number;
  /** What `main.ts` prints at start: URLs, the key, the seeded payments and three curl lines. */
  readonly banner: readonly string[];
  /** The three ready curl lines: cancel, the same again (no-op), cancel a charge (refused). */
  readonly curl: readonly string[];
  readonly links: PaymentLinks;
  /** Stops accepting, finishes requests in flight, then closes the store. Idempotent. */
  close(): Promise<void>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'";

/** Starts the demo: opens (and seeds) the store, serves both dialects, and returns once ready. */
export async function startDemoServer(options: DemoOptions): Promise<DemoServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const store = openStore(options.dbFile);
  let handler: (request: Request, env?: object) => Promise<Response> = async () =>
    new Response("starting", { status: 503, headers: { "retry-after": "1" } });
  let server: ServerHandle;
  try {
    server = await serve({
      app: { fetch: (request, env) => handler(request, env) },
      port: options.port,
      hostname: options.hostname ?? "127.0.0.1",
    });
  } catch (error) {
    store.close();
    throw error;
  }
  const base = server.url;
  const urlFor = (payment: { id: string }) => `${base}/pay/${payment.id}`;
  const clock = options.clock ?? { now: () => new Date() };

  try {
    await seedDemo(store, { urlFor, clock });
  } catch (error) {
    await server.close();
    store.close();
    throw error;
  }
  const links = createPaymentLinks({ store, clock, urlFor });
  const api = createPaylinkApp({
    links,
    idempotency: store,
    clock,
    docsBaseUrl: base,
    title: "Paylink demo API",
    authenticate: staticKeys({ [DEMO_KEY]: { accountId: DEMO_ACCOUNT, livemode: false, canWrite: true } }),
  });

  /** The hosted page of a link: opening it records a view; two buttons simulate a payment. */
  async function payPage(request: Request, id: string, action: string | undefined): Promise<Response> {
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) return new Response("No such payment link.", { status: 404 });
    if (action !== undefined) {
      if (request.method !== "POST")
        return new Response("Use POST.", { status: 405, headers: { allow: "POST" } });
      const started = await links.startPayment(DEMO_SCOPE, id);
      if (started.isOk()) {
        if (action === "pay") await links.paymentSucceeded(DEMO_SCOPE, id);
        else await links.paymentFailed(DEMO_SCOPE, id);
      }
      return new Response(null, { status: 303, headers: { location: `${base}/pay/${id}` } });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Use GET.", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const viewed = await links.view(DEMO_SCOPE, id);
    if (viewed.isErr() || viewed.value.kind !== "link") {
      return new Response("No such payment link.", { status: 404 });
    }
    const payment = viewed.value;
    const amount = `${toMajorUnits(payment.amountTotal, payment.currency)} ${payment.currency}`;
    const payable = ["pending", "viewed", "attempted"].includes(payment.status);
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pay ${escapeHtml(amount)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:420px;margin:60px auto;padding:0 16px}
.amount{font-size:32px;font-weight:700}.status{color:#555}button{font-size:16px;padding:8px 18px;margin-right:8px}</style></head>
<body><p>${escapeHtml(payment.description ?? "Payment")}</p><p class="amount">${escapeHtml(amount)}</p>
<p class="status">Status: <strong>${escapeHtml(payment.status)}</strong> · link ${escapeHtml(payment.id)}</p>
${
  payable
    ? `<form method="post" action="/pay/${escapeHtml(id)}/pay" style="display:inline"><button>Pay</button></form>
<form method="post" action="/pay/${escapeHtml(id)}/fail" style="display:inline"><button>Simulate a failed payment</button></form>`
    : "<p>This link cannot be paid.</p>"
}
<p class="status">Demo page of the Paylink demo server.</p></body></html>`;
    return new Response(html, {
      headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": PAGE_CSP },
    });
  }

  async function route(request: Request, env?: object): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/") return new Response(null, { status: 302, headers: { location: "/docs" } });
    const pay = /^\/pay\/([^/]+)(?:\/(pay|fail))?$/.exec(pathname);
    if (pay) return payPage(request, decodeURIComponent(pay[1]!), pay[2]);
    return api.fetch(request, env);
  }

  // One line per request: method, path (never the query, never a header), status, milliseconds.
  handler = async (request, env) => {
    const started = performance.now();
    let status = 500;
    try {
      const response = await route(request, env);
      status = response.status;
      return response;
    } finally {
      const path = new URL(request.url).pathname;
      const shown = path.length > 120 ? `${path.slice(0, 120)}…` : path;
      log(`${request.method} ${shown} ${status} ${(performance.now() - started).toFixed(1)}ms`);
    }
  };

  const curl = [
    `curl -X POST ${base}/payments/pay_demo_pending/cancel -H "x-api-key: ${DEMO_KEY}"`,
    `curl -X POST ${base}/payments/pay_demo_pending/cancel -H "x-api-key: ${DEMO_KEY}"`,
    `curl -X POST ${base}/payments/pay_demo_charge/cancel -H "x-api-key: ${DEMO_KEY}"`,
  ];
  const statuses: string[] = [];
  for (const id of Object.keys(DEMO_PAYMENTS) as DemoId[]) {
    const current = await links.get(DEMO_SCOPE, id);
    const status = current.isOk() ? current.value.status : "missing";
    const kind = current.isOk() && current.value.kind === "charge" ? " (charge)" : "";
    statuses.push(`    ${id.padEnd(20)} ${`${status}${kind}`.padEnd(20)} ${base}/pay/${id}`);
  }
  const banner = [
    `Paylink demo server on ${base}`,
    `  API reference   ${base}/docs`,
    `  OpenAPI         ${base}/openapi.json`,
    `  Dialect A       ${base}/payments/{id}/cancel   (x-api-key or Authorization: Bearer)`,
    `  Dialect B (DNA) ${base}/v1/payment-links/{id}/cancellation   (Authorization: Bearer)`,
    `  Database        ${options.dbFile} (SQLite; delete it to start over)`,
    `  API key         ${DEMO_KEY}  (test mode, account ${DEMO_ACCOUNT})`,
    "  Payments:",
    ...statuses,
    "",
    "Try: cancel a pending link, the same again (a no-op), then a charge (refused):",
    ...curl.map((line) => `  ${line}`),
    "",
  ];

  let closing: Promise<void> | undefined;
  return {
    url: base,
    port: server.port,
    banner,
    curl,
    links,
    close() {
      closing ??= (async () => {
        await server.close();
        store.close();
      })();
      return closing;
    },
  };
}
