/**
 * HTTP: cancel requests per second and p99 latency through `@paylink/http`, next to a bare Hono route
 * that answers the same JSON bytes from a `Map`.
 *
 * What is measured, per request, over real HTTP/1.1 keep-alive with 10 connections:
 * - Subject: `POST /payments/:id/cancel` with `x-api-key` on `createPaylinkApp` over the memory store, for
 *   a link that is already canceled (the steady-state no-op, so every request does the same work):
 *   authentication (hash and constant-time compare of the key), routing, the empty-body check, the id
 *   check, the store read (the memory store hands out a copy), the lazy-expiry check and the
 *   decision, and the dialect-A envelope (`JSON.stringify` of the payment). No `Idempotency-Key` is sent.
 * - Baseline: a bare Hono app with one `POST /payments/:id/cancel` route that looks the `:id` param up in
 *   a `Map` of id → the JSON text Paylink answers, and sends it with the same headers. No auth, no store.
 * Both are served in this process by the same adapter (`serve` from `@paylink/http`, i.e.
 * `@hono/node-server`), so the ratio is what Paylink adds per request on top of the HTTP stack.
 * The load comes from a separate process: autocannon (a dev dependency) or, when that cannot run, a
 * small keep-alive `node:http` client in a child process (it saturates sooner, so its ratios read closer
 * to 1); both refuse any non-2xx answer. Rounds measure both sides in alternating order; the row
 * holds the per-round throughputs and the median over rounds of each side's p99 latency (both
 * record every response time, to the microsecond).
 * Tune with PAYLINK_BENCH_HTTP_SECONDS (per side and round, default 3) and PAYLINK_BENCH_HTTP_ROUNDS
 * (default 5); PAYLINK_BENCH_LOADGEN=node forces the node:http client.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createPaymentLinks } from "@paylink/core";
import { createPaylinkApp, serve, staticKeys } from "@paylink/http";
import { createMemoryStore } from "@paylink/store-memory";
import { sampleLinkInput } from "@paylink/testing";
import { type BenchModuleResult, median, rowFromRounds } from "./harness.js";

/** The few Hono calls the baseline makes. */
interface BareHono {
  post(
    path: string,
    handler: (c: {
      req: { param(name: string): string | undefined };
      body(data: string | null, status: number, headers?: Record<string, string>): Response;
    }) => Response,
  ): unknown;
  fetch(request: Request): Response | Promise<Response>;
}

// The workspace root does not depend on hono; the http package does, so the baseline loads that copy.
const requireFromHttp = createRequire(new URL("../packages/http/package.json", import.meta.url));
const { Hono } = requireFromHttp("hono") as { Hono: new () => BareHono };

const KEY = "sk_test_bench";
const SECONDS = Number(process.env.PAYLINK_BENCH_HTTP_SECONDS ?? 3);
const ROUNDS = Number(process.env.PAYLINK_BENCH_HTTP_ROUNDS ?? 5);
const CONNECTIONS = 10;

// autocannon is a dev dependency of the workspace root.
const requireFromRoot = createRequire(import.meta.url);

/**
 * autocannon in a child process, through its API: its own report keeps latencies in whole milliseconds,
 * so the child also records every 2xx response time (a float, in ms) and computes the p99 itself.
 */
const AUTOCANNON = `
const autocannon = require(process.env.AUTOCANNON_PATH);
const { URL_, KEY, SECONDS, CONNECTIONS } = process.env;
const times = [];
const instance = autocannon({ url: URL_, connections: Number(CONNECTIONS), duration: Number(SECONDS),
  method: "POST", headers: { "x-api-key": KEY } }, (error, result) => {
  if (error) { console.error(String(error)); process.exit(1); }
  times.sort((a, b) => a - b);
  const p99 = times.length === 0 ? 0 : times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)];
  const bad = result.non2xx + result.errors + result.timeouts;
  console.log(JSON.stringify({ rps: result.requests.average, p99, bad }));
});
instance.on("response", (client, statusCode, bytes, responseTime) => {
  if (statusCode >= 200 && statusCode < 300) times.push(responseTime);
});
`;

/** A keep-alive load generator for a child process, used when autocannon is not available. */
const FALLBACK = `
const http = require("node:http");
const { URL_, KEY, SECONDS, CONNECTIONS } = process.env;
const url = new URL(URL_);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(CONNECTIONS) });
const latencies = [];
let bad = 0;
const end = Date.now() + Number(SECONDS) * 1000;
const one = () => new Promise((resolve) => {
  const t0 = process.hrtime.bigint();
  const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST",
    headers: { "x-api-key": KEY } }, (res) => {
    if (res.statusCode < 200 || res.statusCode > 299) bad++;
    res.resume();
    res.on("end", () => { latencies.push(Number(process.hrtime.bigint() - t0) / 1e6); resolve(); });
  });
  req.on("error", () => { bad++; resolve(); });
  req.end();
});
const worker = async () => { while (Date.now() < end) await one(); };
const start = Date.now();
Promise.all(Array.from({ length: Number(CONNECTIONS) }, worker)).then(() => {
  const sorted = latencies.sort((a, b) => a - b);
  const p99 = sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)];
  console.log(JSON.stringify({ rps: latencies.length / ((Date.now() - start) / 1000), p99, bad }));
  agent.destroy();
});
`;

function output(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    // A load run lasts seconds; never let a stuck child hang the bench.
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

/** One load run: requests per second and p99 latency (ms). */
interface Load {
  readonly rps: number;
  readonly p99: number;
}

/** Loads `url` for `seconds` from a separate process; refuses any non-2xx answer or error. */
async function load(generator: LoadGenerator, url: string, seconds: number): Promise<Load> {
  if (generator === "autocannon") {
    const text = await output(process.execPath, ["-e", AUTOCANNON], {
      ...process.env,
      AUTOCANNON_PATH: requireFromRoot.resolve("autocannon"),
      URL_: url,
      KEY,
      SECONDS: String(seconds),
      CONNECTIONS: String(CONNECTIONS),
    });
    const result = JSON.parse(text) as { rps: number; p99: number; bad: number };
    if (result.bad > 0) throw new Error(`load on ${url}: ${result.bad} non-2xx answers, errors or timeouts`);
    return { rps: result.rps, p99: result.p99 };
  }
  const text = await output(process.execPath, ["-e", FALLBACK], {
    ...process.env,
    URL_: url,
    KEY,
    SECONDS: String(seconds),
    CONNECTIONS: String(CONNECTIONS),
  });
  const result = JSON.parse(text) as { rps: number; p99: number; bad: number };
  if (result.bad > 0) throw new Error(`load on ${url}: ${result.bad} bad answers`);
  return { rps: result.rps, p99: result.p99 };
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
export async function run(): Promise<BenchModuleResult> {
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
  // The baseline answers the very bytes Paylink answers, looked up by id in a Map.
  const probe = await paylink.fetch(
    new Request(`http://x/payments/${id}/cancel`, { method: "POST", headers: { "x-api-key": KEY } }),
  );
  if (probe.status !== 200) throw new Error(`bench setup: cancel answered ${probe.status}`);
  const answers = new Map<string, string>([[id, await probe.text()]]);
  const headers = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };
  const bare = new Hono();
  bare.post("/payments/:id/cancel", (c) => {
    const body = answers.get(c.req.param("id") ?? "");
    return body === undefined ? c.body(null, 404) : c.body(body, 200, headers);
  });

  const subjectServer = await serve({ app: paylink, port: 0 });
  const baselineServer = await serve({ app: bare, port: 0 });
  const path = `/payments/${id}/cancel`;
  try {
    const generator = await pickGenerator(`${baselineServer.url}${path}`);
    // Warm both up, then alternate the order each round so drift hits both alike.
    await load(generator, `${subjectServer.url}${path}`, 1);
    await load(generator, `${baselineServer.url}${path}`, 1);
    const subject: Load[] = [];
    const baseline: Load[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (["subject", "baseline"] as const) : (["baseline", "subject"] as const);
      for (const which of order) {
        const server = which === "subject" ? subjectServer : baselineServer;
        (which === "subject" ? subject : baseline).push(
          await load(generator, `${server.url}${path}`, SECONDS),
        );
      }
    }
    const p99Subject = median(subject.map((l) => l.p99));
    const p99Baseline = median(baseline.map((l) => l.p99));
    console.log(
      `  http: ${generator}, ${CONNECTIONS} connections, ${ROUNDS}×${SECONDS}s — @paylink/http ${subject
        .map((l) => l.rps.toFixed(0))
        .join("/")} req/s, bare Hono ${baseline.map((l) => l.rps.toFixed(0)).join("/")} req/s`,
    );
    return {
      rows: [
        rowFromRounds(
          "HTTP cancel, 10 connections from another process",
          { name: "@paylink/http cancel (memory store)", opsPerSec: subject.map((l) => l.rps) },
          { name: "bare Hono route, same JSON from a Map", opsPerSec: baseline.map((l) => l.rps) },
          {
            unit: "request",
            target: 0.7,
            extra: {
              "p99 Paylink ms": Number(p99Subject.toFixed(2)),
              "p99 bare ms": Number(p99Baseline.toFixed(2)),
              "load generator": generator,
            },
          },
        ),
      ],
    };
  } finally {
    await Promise.all([subjectServer.close(1000), baselineServer.close(1000)]);
  }
}
