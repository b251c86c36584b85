/**
 * Paylink inside an existing Fastify 5 application: the Paylink Hono app answers every request under
 * `/paylink`, next to the host's own routes (`GET /health`, `POST /orders`). An encapsulated plugin holds
 * a catch-all route that turns Fastify's request into a fetch `Request` (prefix stripped, so Paylink sees
 * `/payments/...`; raw body, unparsed) and sends Paylink's `Response` back as it is: status, headers, body.
 *
 * Run it: `npx tsx examples/fastify/main.ts` (PORT, default 3000).
 */
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createPaymentLinks, type PaymentLinks, randomIds } from "@paylink/core";
import { createPaylinkApp, staticKeys } from "@paylink/http";
import { createMemoryStore } from "@paylink/store-memory";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";

/** Where Paylink is mounted in the host application. */
export const PREFIX = "/paylink";
/** The example's test-mode API key (account `acct_demo`). */
export const API_KEY = "sk_test_demo";
const SCOPE = { accountId: "acct_demo", livemode: false };

/** Anything with a standard fetch handler, such as the app of `createPaylinkApp`. */
interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

/**
 * A Fastify plugin that hands every request under its prefix to `app.fetch`. Register it with
 * `{ prefix }`: inside it Fastify parses no body (one catch-all content-type parser passes the raw stream
 * on), so Paylink reads the exact bytes itself (README.md says why). The host's parsers outside the
 * plugin are untouched.
 */
export function mountFetchApp(app: FetchApp) {
  return async (instance: FastifyInstance, options: { prefix?: string }) => {
    const prefix = options.prefix ?? "";
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser("*", (_request, payload, done) => done(null, payload));

    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      const raw = request.raw;
      const target = raw.url ?? "/";
      // `/paylink/payments/x?y` → `/payments/x?y`; `/paylink` and `/paylink?y` → `/`, `/?y`.
      const rest = target.startsWith(prefix) ? target.slice(prefix.length) : target;
      const path = rest.startsWith("/") ? rest : `/${rest}`;
      const url = new URL(path, `${request.protocol}://${request.headers.host ?? "localhost"}`);
      const headers = new Headers();
      for (let i = 0; i < raw.rawHeaders.length; i += 2)
        headers.append(raw.rawHeaders[i]!, raw.rawHeaders[i + 1]!);
      const method = raw.method ?? "GET";
      const hasBody =
        method !== "GET" &&
        method !== "HEAD" &&
        (raw.headers["transfer-encoding"] !== undefined ||
          (raw.headers["content-length"] !== undefined && raw.headers["content-length"] !== "0"));
      // The parser above passed the stream on as `request.body`; without a Content-Type Fastify skips
      // parsers for a bodiless request, so fall back to the raw request.
      const stream = request.body instanceof Readable ? request.body : raw;
      const response = await app.fetch(
        new Request(url, {
          method,
          headers,
          body: hasBody ? (Readable.toWeb(stream) as ReadableStream<Uint8Array>) : null,
          duplex: "half",
        } as RequestInit),
      );
      reply.code(response.status);
      for (const [name, value] of response.headers) {
        if (name !== "set-cookie") reply.header(name, value);
      }
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) reply.header("set-cookie", cookies);
      // No body (HEAD, 204 …): send nothing, not the JSON text `null`.
      if (response.body === null) return reply.send();
      return reply.send(Buffer.from(await response.arrayBuffer()));
    };

    // Every method, at the prefix itself and below it.
    instance.all("/", forward);
    instance.all("/*", forward);
  };
}

/** The host application, and what the example seeded. */
export interface FastifyExample {
  /** The Fastify application, with Paylink mounted under {@link PREFIX}. */
  readonly app: FastifyInstance;
  /** The Paylink Hono app itself (its `fetch` answers exactly what the mount forwards). */
  readonly paylink: ReturnType<typeof createPaylinkApp>;
  readonly links: PaymentLinks;
  /** A pending payment link and a charge, under stable ids. */
  readonly ids: { readonly link: string; readonly charge: string };
}

/** Builds the host application with Paylink mounted under `/paylink`, and seeds a link and a charge. */
export async function createFastifyExample(): Promise<FastifyExample> {
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

  // The existing host application, with its own routes and Fastify's default JSON parsing.
  const app = Fastify();
  app.get("/health", async () => ({ status: "ok" }));
  app.post("/orders", async (request, reply) => reply.code(201).send({ received: request.body }));

  // Paylink under /paylink, in its own encapsulated context.
  await app.register(mountFetchApp(paylink), { prefix: PREFIX });

  return { app, paylink, links, ids: { link: link.value.id, charge: charge.value.id } };
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const port = Number(process.env.PORT ?? 3000);
  const { app, ids } = await createFastifyExample();
  const url = (await app.listen({ port, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");
  const key = `-H "x-api-key: ${API_KEY}"`;
  console.log(`Fastify host app on ${url}: its own GET /health and POST /orders, Paylink under ${PREFIX}`);
  console.log(`  curl ${url}/health`);
  console.log(`  curl -X POST "${url}${PREFIX}/payments/${ids.link}/cancel" ${key}     # cancel`);
  console.log(
    `  curl -X POST "${url}${PREFIX}/payments/${ids.link}/cancel" ${key}     # again: a no-op, 200`,
  );
  console.log(`  curl -X POST "${url}${PREFIX}/payments/${ids.charge}/cancel" ${key}   # a charge: 409`);
  console.log(`  ${url}${PREFIX}/docs                               # the API reference`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void app.close());
}
