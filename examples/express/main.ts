/**
 * Paylink inside an existing Express 5 application: the Paylink Hono app is mounted under `/paylink`
 * next to the host's own routes (`GET /health`, `POST /orders`). Paylink sees `/payments/...` (Express
 * strips the mount path from `req.url`) and gets the raw, unparsed request; its status, headers and body
 * go back to the client as they are.
 *
 * Run it: `npx tsx examples/express/main.ts` (PORT, default 3000).
 */
import type { Server } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getRequestListener } from "@hono/node-server";
import { createPaymentLinks, type PaymentLinks, randomIds } from "@paylink/core";
import { createPaylinkApp, staticKeys } from "@paylink/http";
import { createMemoryStore } from "@paylink/store-memory";
import express, { type Express } from "express";

/** Where Paylink is mounted in the host application. */
export const PREFIX = "/paylink";
/** The example's test-mode API key (account `acct_demo`). */
export const API_KEY = "sk_test_demo";
const SCOPE = { accountId: "acct_demo", livemode: false };

/** The host application, and what the example seeded. */
export interface ExpressExample {
  /** The Express application, with Paylink mounted under {@link PREFIX}. */
  readonly app: Express;
  /** The Paylink Hono app itself (its `fetch` answers exactly what the mount forwards). */
  readonly paylink: ReturnType<typeof createPaylinkApp>;
  readonly links: PaymentLinks;
  /** A pending payment link and a charge, under stable ids. */
  readonly ids: { readonly link: string; readonly charge: string };
}

/** Builds the host application with Paylink mounted under `/paylink`, and seeds a link and a charge. */
export async function createExpressExample(): Promise<ExpressExample> {
  // Paylink: commands over a store, and its HTTP app.
  const store = createMemoryStore();
  const planned: string[] = [];
  const links = createPaymentLinks({
    store,
    ids: { paymentId: () => planned.shift() ?? randomIds.paymentId(), eventId: randomIds.eventId },
    urlFor: (payment) => `https://checkout.example.com/pay/${payment.id}`, // the host's checkout page
  });
  const paylink = createPaylinkApp({
    links,
    idempotency: store,
    // `doc_url` of errors: the error catalogue as served under the prefix.
    docsBaseUrl: PREFIX,
    authenticate: staticKeys({ [API_KEY]: { accountId: "acct_demo", livemode: false, canWrite: true } }),
  });

  planned.push("pay_example_link", "pay_example_charge");
  const base = { customerId: "cus_1", provider: "stripe", currency: "GBP", description: "For cappuccino" };
  const link = await links.create(SCOPE, {
    ...base,
    amountSubtotal: 1000,
    taxAmount: 200,
    expiresAt: new Date(Date.now() + 30 * 86_400_000),
  });
  const charge = await links.create(SCOPE, { ...base, kind: "charge", amountSubtotal: 500 });
  if (link.isErr() || charge.isErr()) throw new Error("seeding the example failed");

  // The existing host application.
  const app = express();
  app.disable("x-powered-by"); // so Paylink's responses carry exactly Paylink's headers
  app.get("/health", (_req, res) => {
    res.json({ status: "ok" });
  });

  // Paylink under /paylink, BEFORE any body parser: it reads the raw body itself (README.md says why).
  app.use(
    PREFIX,
    getRequestListener((request, env) => paylink.fetch(request, env)),
  );

  // The host's own routes that want parsed JSON come after the mount.
  app.use(express.json());
  app.post("/orders", (req, res) => {
    res.status(201).json({ received: req.body as unknown });
  });

  return { app, paylink, links, ids: { link: link.value.id, charge: charge.value.id } };
}

/** Starts `app` on 127.0.0.1:`port` (0 picks a free port); resolves with the server once listening. */
export function listen(app: Express, port: number): Promise<Server> {
  return new Promise((resolvePromise, reject) => {
    const server = app.listen(port, "127.0.0.1", (error?: Error) =>
      error ? reject(error) : resolvePromise(server),
    );
  });
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const port = Number(process.env.PORT ?? 3000);
  const { app, ids } = await createExpressExample();
  const server = await listen(app, port);
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`;
  const key = `-H "x-api-key: ${API_KEY}"`;
  console.log(`Express host app on ${url}: its own GET /health and POST /orders, Paylink under ${PREFIX}`);
  console.log(`  curl ${url}/health`);
  console.log(`  curl -X POST "${url}${PREFIX}/payments/${ids.link}/cancel" ${key}     # cancel`);
  console.log(
    `  curl -X POST "${url}${PREFIX}/payments/${ids.link}/cancel" ${key}     # again: a no-op, 200`,
  );
  console.log(`  curl -X POST "${url}${PREFIX}/payments/${ids.charge}/cancel" ${key}   # a charge: 409`);
  console.log(`  ${url}${PREFIX}/docs                               # the API reference`);
  process.once("SIGINT", () => server.close());
  process.once("SIGTERM", () => server.close());
}
