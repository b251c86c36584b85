/**
 * A cancel through `@paylink/http` over real HTTP, next to a bare Hono route that returns the same JSON.
 * Both are served by the same adapter (`serve`, i.e. `@hono/node-server`) in this process; the load comes
 * from a separate process (autocannon through `npx -y autocannon`, or, when that cannot run, a small
 * keep-alive `node:http` client in a child process). The subject is the steady-state no-op: a cancel of a
 * link that is already canceled (authentication, routing, a store read, the decision, the envelope).
 * The ratio is what Paylink's transport and core add per request on top of the HTTP stack itself.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createPaymentLinks } from "@paylink/core";
import { createPaylinkApp, serve, staticKeys } from "@paylink/http";
import { createMemoryStore } from "@paylink/store-memory";
import { sampleLinkInput } from "@paylink/testing";
import type { Comparison } from "./harness.js";

/** The few Hono calls the baseline makes. */
interface BareHono {
  post(
    path: string,
    handler: (c: {
      body(data: string, status: number, headers: Record<string, string>): Response;
    }) => Response,
  ): unknown;
  fetch(request: Request): Response | Promise<Response>;
}

// The workspace root does not depend on hono; the http package does, so the baseline loads that copy.
const requireFromHttp = createRequire(new URL("../packages/http/package.json", import.meta.url));
const { Hono } = requireFromHttp("hono") as { Hono: new () => BareHono };

const KEY = "sk_test_bench";
const SECONDS = Number(process.env.PAYLINK_BENCH_HTTP_SECONDS ?? 3);
const ROUNDS = Number(process.env.PAYLINK_BENCH_HTTP_ROUNDS ?? 3);
const CONNECTIONS = 32;

/** A keep-alive load generator for a child process, used when autocannon is not available. */
const FALLBACK = `
const http = require("node:http");
const { URL_, KEY, SECONDS, CONNECTIONS } = process.env;
const url = new URL(URL_);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(CONNECTIONS) });
let done = 0, bad = 0;
const end = Date.now() + Number(SECONDS) * 1000;
const one = () => new Promise((resolve) => {
  const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST",
    headers: { "x-api-key": KEY } }, (res) => {
    if (res.statusCode !== 200) bad++;
    res.resume();
    res.on("end", () => { done++; resolve(); });
  });
  req.on("error", () => { bad++; resolve(); });
  req.end();
});
const worker = async () => { while (Date.now() < end) await one(); };
const start = Date.now();
Promise.all(Array.from({ length: Number(CONNECTIONS) }, worker)).then(() => {
  console.log(JSON.stringify({ rps: done / ((Date.now() - start) / 1000), bad }));
  agent.destroy();
});
`;

function output(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    // A load run lasts seconds; npx without a registry could hang much longer.
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("exit", () => clearTimeout(timer));
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

type LoadGenerator = "autocannon" | "node:http";

/** Requests per second of `url` over `seconds`, from a separate process; refuses any non-200 answer. */
async function load(generator: LoadGenerator, url: string, seconds: number): Promise<number> {
  if (generator === "autocannon") {
    const text = await output("npx", [
      "-y",
      "autocannon",
      "--json",
      "--connections",
      String(CONNECTIONS),
      "--duration",
      String(seconds),
      "--method",
      "POST",
      "--headers",
      `x-api-key=${KEY}`,
      url,
    ]);
    const result = JSON.parse(text.slice(text.indexOf("{"))) as {
      requests: { average: number };
      non2xx: number;
      errors: number;
    };
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`load on ${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    }
    return result.requests.average;
  }
  const text = await output(process.execPath, ["-e", FALLBACK], {
    ...process.env,
    URL_: url,
    KEY,
    SECONDS: String(seconds),
    CONNECTIONS: String(CONNECTIONS),
  });
  const result = JSON.parse(text) as { rps: number; bad: number };
  if (result.bad > 0) throw new Error(`load on ${url}: ${result.bad} bad answers`);
  return result.rps;
}

async function pickGenerator(url: string): Promise<LoadGenerator> {
  if (process.env.PAYLINK_BENCH_LOADGEN === "node") return "node:http";
  try {
    await load("autocannon", url, 1);
    return "autocannon";
  } catch {
    return "node:http";
  }
}

/** Runs the HTTP benchmark. */
export async function run(): Promise<Comparison[]> {
  const store = createMemoryStore();
  const links = createPaymentLinks({ store });
  const scope = { accountId: "acct_bench", livemode: false };
  const created = await links.create(
    scope,
    sampleLinkInput(new Date(), { expiresAt: new Date(Date.now() + 365 * 86_400_000) }),
  );
  const id = created._unsafeUnwrap().id;
  await links.cancel(scope, id);

  const paylink = createPaylinkApp({
    links,
    idempotency: store,
    authenticate: staticKeys({ [KEY]: { ...scope, canWrite: true } }),
  });
  // The baseline answers the very bytes Paylink answers, from a bare route with no work behind it.
  const probe = await paylink.fetch(
    new Request(`http://x/payments/${id}/cancel`, { method: "POST", headers: { "x-api-key": KEY } }),
  );
  if (probe.status !== 200) throw new Error(`bench setup: cancel answered ${probe.status}`);
  const body = await probe.text();
  const bare = new Hono();
  bare.post("/payments/:id/cancel", (c) =>
    c.body(body, 200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" }),
  );

  const subjectServer = await serve({ app: paylink, port: 0 });
  const baselineServer = await serve({ app: bare, port: 0 });
  const path = `/payments/${id}/cancel`;
  try {
    const generator = await pickGenerator(`${baselineServer.url}${path}`);
    // Warm both up, then alternate the order each round so drift hits both alike.
    await load(generator, `${subjectServer.url}${path}`, 1);
    await load(generator, `${baselineServer.url}${path}`, 1);
    const subject: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (["subject", "baseline"] as const) : (["baseline", "subject"] as const);
      for (const which of order) {
        const server = which === "subject" ? subjectServer : baselineServer;
        (which === "subject" ? subject : baseline).push(
          await load(generator, `${server.url}${path}`, SECONDS),
        );
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const subjectRps = median(subject);
    const baselineRps = median(baseline);
    console.log(
      `  http: ${generator}, ${CONNECTIONS} connections, ${ROUNDS}×${SECONDS}s — @paylink/http ${subjectRps.toFixed(0)} req/s, bare Hono ${baselineRps.toFixed(0)} req/s`,
    );
    return [
      {
        name: `HTTP cancel no-op, load from another process (per request, ${generator})`,
        subject: "@paylink/http cancel (memory store)",
        baseline: "bare Hono route, same JSON",
        subjectNs: 1e9 / subjectRps,
        baselineNs: 1e9 / baselineRps,
      },
    ];
  } finally {
    await Promise.all([subjectServer.close(1000), baselineServer.close(1000)]);
  }
}
