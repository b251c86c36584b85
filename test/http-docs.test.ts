/**
 * Replays every example exchange of docs/http.md, in order, against a real server and checks the
 * documented status, headers and JSON body. A doc example that drifts from the server fails here.
 *
 * The format (docs/http.md, "How to read the examples", says the same):
 * - An exchange is a ```http block (request line, headers, blank line, body), then a line
 *   "Response `200 OK`" (more `Name: value` in backticks on that line are response headers to check),
 *   then, for a JSON response, a ```json block with the body.
 * - In the expected JSON: `"<timestamp>"` is any ISO 8601 UTC date-time; `"<id>"` is any payment id the
 *   server generated (`pay_` + 24 URL-safe characters); `"<evt_id>"` an event id (`evt_` + 24),
 *   `"<we_id>"` a webhook endpoint id (`we_` + 16), `"<whd_id>"` a delivery id (`whd_` + 16) and
 *   `"<secret>"` a signing secret (`whsec_` + 32 base64 characters). Each may stand inside a longer
 *   string. A name after a colon (`<id:order>`, `<timestamp:canceled>`, `<we_id:hooks>`) binds the first
 *   value seen; every later use must be the same value, and the request lines, headers and bodies of later
 *   exchanges may use it. An object with a `"…"` key lists only some of its keys (the others are not
 *   checked); any other object must have exactly its keys, in its order. Numbers are compared as written
 *   (`12.00` is not `12`).
 * - A secret bound by a name (`<secret:hooks>`) is shown once: a later response whose documented body
 *   does not show that same placeholder must not contain its value anywhere.
 * - `http://127.0.0.1:3000` (the demo server's address) stands for the address of the server under test.
 * - `<70000 × x>` in a request (target, header or body) is the character `x` 70000 times.
 * - A ```sh block's concrete `curl` commands (no `<…>` in them) must send exactly the request of the
 *   next exchange.
 * - `<!-- replay: … -->` before an exchange sets it up: `in flight` sends the same request first and
 *   holds it inside the store until the documented one is answered; `clock +25h` moves time forward;
 *   `relay` runs the server's relay once with the webhook sink, so every event written so far gets its
 *   delivery to each endpoint that wants its type (as `pnpm start`'s relay does right after a commit);
 *   `dead` makes the oldest pending delivery of each endpoint run out of attempts: it is leased and its
 *   last attempt recorded through the store's own methods, as the dispatcher records a final `HTTP 500`
 *   after the last pause of its schedule (no request leaves the machine).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { fileURLToPath } from "node:url";
import { type Clock, createPaymentLinks, type PaymentStore } from "@paylink/core";
import { createPaylinkApp, type ServerHandle, serve, staticKeys } from "@paylink/http";
import { createRelay } from "@paylink/relay";
import { createMemoryStore } from "@paylink/store-memory";
import { createWebhookEndpoints, createWebhookSink, DEFAULT_RETRY_SCHEDULE_MS } from "@paylink/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ACCOUNT, DEMO_KEY, seedDemo } from "../examples/server/seed.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const DOC_PATH = "docs/http.md";
const DOC_BASE = "http://127.0.0.1:3000";
/** The read-only key the doc's 403 example uses (the demo server itself has only `sk_test_demo`). */
const READ_ONLY_KEY = "sk_test_readonly";

// ------------------------------------------------------------------------------------------ JSON text

/** A JSON number kept as it was written, so `12.00` and `12` differ. */
class JsonNumber {
  constructor(readonly text: string) {}
}
type Json = null | boolean | string | JsonNumber | Json[] | { [key: string]: Json };

/** Parses JSON text, keeping number literals as written. Throws on invalid JSON. */
function parseJson(text: string): Json {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${i}: ${JSON.stringify(text.slice(i, i + 30))}`);
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const value = (): Json => {
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      const out: { [key: string]: Json } = {};
      space();
      if (text[i] === "}") {
        i++;
        return out;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail("expected a key");
        const key = string();
        space();
        if (text[i++] !== ":") fail("expected ':'");
        if (Object.hasOwn(out, key)) fail(`duplicate key ${key}`);
        out[key] = value();
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i++] !== "}") fail("expected ',' or '}'");
        return out;
      }
    }
    if (c === "[") {
      i++;
      const out: Json[] = [];
      space();
      if (text[i] === "]") {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i++] !== "]") fail("expected ',' or ']'");
        return out;
      }
    }
    if (c === '"') return string();
    for (const [word, result] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return result;
      }
    }
    const number = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (number) {
      i += number[0].length;
      return new JsonNumber(number[0]);
    }
    return fail("unexpected character");
  };
  const string = (): string => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail("unterminated string");
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const result = value();
  space();
  if (i !== text.length) fail("trailing text");
  return result;
}

/** Pretty text of a parsed value (numbers as written), for failure messages. */
function printJson(value: Json, indent = ""): string {
  if (value instanceof JsonNumber) return value.text;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + printJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${printJson(v, inner)}`).join(",\n")}\n${indent}}`;
}

// ------------------------------------------------------------------------------------- placeholders

/** What each placeholder kind matches: a date-time, or a value the server generated in its own shape. */
const KIND_PATTERN: Record<string, string> = {
  timestamp: String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z`,
  id: "pay_[A-Za-z0-9_-]{24}",
  evt_id: "evt_[A-Za-z0-9_-]{24}",
  we_id: "we_[A-Za-z0-9_-]{16}",
  whd_id: "whd_[A-Za-z0-9_-]{16}",
  secret: "whsec_[A-Za-z0-9+/]{32}",
};
const KINDS = Object.keys(KIND_PATTERN).join("|");
const PLACEHOLDER = new RegExp(`<(${KINDS})(?::([A-Za-z0-9_-]+))?>`, "g");
const NAMED_PLACEHOLDER = new RegExp(`<((?:${KINDS}):[A-Za-z0-9_-]+)>`, "g");
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Values bound by named placeholders, across the whole replay. */
type Bindings = Map<string, string>;

/** Does `actual` match `expected` (a string that may hold placeholders)? Binds new names on success. */
function matchString(expected: string, actual: string, bindings: Bindings): boolean {
  const names: string[] = [];
  let pattern = "";
  let last = 0;
  for (const m of expected.matchAll(PLACEHOLDER)) {
    pattern += escapeRegExp(expected.slice(last, m.index));
    last = m.index + m[0].length;
    const name = m[2] === undefined ? undefined : `${m[1]}:${m[2]}`;
    if (name !== undefined && bindings.has(name)) pattern += escapeRegExp(bindings.get(name)!);
    else {
      pattern += `(${KIND_PATTERN[m[1]!]})`;
      names.push(name ?? "");
    }
  }
  pattern += escapeRegExp(expected.slice(last));
  const match = new RegExp(`^${pattern}$`).exec(actual);
  if (!match) return false;
  const fresh = new Map<string, string>();
  for (const [index, name] of names.entries()) {
    if (name === "") continue;
    const value = match[index + 1]!;
    if ((fresh.get(name) ?? value) !== value) return false; // the same new name twice in one string
    fresh.set(name, value);
  }
  for (const [name, value] of fresh) bindings.set(name, value);
  return true;
}

const SOME_KEYS = "…";

/** Differences between the documented and the actual body, one line each (empty when they match). */
function compareJson(expected: Json, actual: Json, bindings: Bindings, path = "$"): string[] {
  const show = (value: Json) => printJson(value).replace(/\s*\n\s*/g, " ");
  if (typeof expected === "string") {
    return typeof actual === "string" && matchString(expected, actual, bindings)
      ? []
      : [`${path}: documented ${show(expected)}, got ${show(actual)}`];
  }
  if (expected instanceof JsonNumber) {
    return actual instanceof JsonNumber && actual.text === expected.text
      ? []
      : [`${path}: documented ${expected.text}, got ${show(actual)}`];
  }
  if (expected === null || typeof expected === "boolean") {
    return actual === expected ? [] : [`${path}: documented ${show(expected)}, got ${show(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: documented an array, got ${show(actual)}`];
    if (actual.length !== expected.length) {
      return [`${path}: documented ${expected.length} items, got ${actual.length}: ${show(actual)}`];
    }
    return expected.flatMap((item, index) =>
      compareJson(item, actual[index]!, bindings, `${path}[${index}]`),
    );
  }
  if (
    actual === null ||
    typeof actual !== "object" ||
    Array.isArray(actual) ||
    actual instanceof JsonNumber
  ) {
    return [`${path}: documented an object, got ${show(actual)}`];
  }
  const keys = Object.keys(expected).filter((key) => key !== SOME_KEYS);
  const problems: string[] = [];
  if (!Object.hasOwn(expected, SOME_KEYS)) {
    const actualKeys = Object.keys(actual);
    if (actualKeys.join(",") !== keys.join(",")) {
      problems.push(`${path}: documented keys [${keys.join(", ")}], got [${actualKeys.join(", ")}]`);
    }
  }
  for (const key of keys) {
    if (!Object.hasOwn(actual, key)) {
      problems.push(`${path}.${key}: missing`);
      continue;
    }
    problems.push(...compareJson(expected[key]!, actual[key]!, bindings, `${path}.${key}`));
  }
  return problems;
}

/**
 * The bound secrets (`<secret:name>`) that a response's text shows although its documented body does not
 * show that placeholder: a signing secret is shown when its endpoint is created, never again.
 */
function shownSecrets(documented: string | undefined, text: string, bindings: Bindings): string[] {
  return [...bindings]
    .filter(([name, value]) => name.startsWith("secret:") && text.includes(value))
    .map(([name]) => `<${name}>`)
    .filter((placeholder) => !(documented ?? "").includes(placeholder));
}

// --------------------------------------------------------------------------------------- the document

interface Exchange {
  /** 1-based number, and the doc line of its ```http block. */
  readonly number: number;
  readonly line: number;
  readonly heading: string;
  readonly directives: string[];
  readonly curls: string[];
  readonly request: {
    readonly method: string;
    readonly target: string;
    readonly headers: [string, string][];
    readonly body: string | undefined;
  };
  status?: number;
  responseHeaders: [string, string][];
  body?: string;
}

/** Reads the exchanges of the document; throws on a malformed one so that no example escapes the test. */
function parseExchanges(markdown: string): Exchange[] {
  const lines = markdown.split("\n");
  const exchanges: Exchange[] = [];
  let heading = "";
  let directives: string[] = [];
  let curls: string[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const where = `${DOC_PATH}:${n + 1}`;
    const fence = /^```(\S*)(.*)$/.exec(line);
    if (fence) {
      const start = n;
      const content: string[] = [];
      for (n++; n < lines.length && lines[n] !== "```"; n++) content.push(lines[n]!);
      if (n >= lines.length) throw new Error(`${where}: unclosed code block`);
      const lang = fence[1];
      if (lang === "http") {
        const [requestLine = "", ...rest] = content;
        const m = /^([A-Z]+) (\S+)(?: HTTP\/1\.1)?$/.exec(requestLine);
        if (!m) throw new Error(`${where}: bad request line ${JSON.stringify(requestLine)}`);
        const blank = rest.indexOf("");
        const headerLines = blank === -1 ? rest : rest.slice(0, blank);
        const headers = headerLines.map((h): [string, string] => {
          const colon = h.indexOf(":");
          if (colon < 1) throw new Error(`${where}: bad header line ${JSON.stringify(h)}`);
          return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()];
        });
        const body = blank === -1 ? undefined : rest.slice(blank + 1).join("\n");
        exchanges.push({
          number: exchanges.length + 1,
          line: start + 1,
          heading,
          directives,
          curls,
          request: { method: m[1]!, target: m[2]!, headers, body },
          responseHeaders: [],
        });
        directives = [];
        curls = [];
      } else if (lang === "json") {
        const current = exchanges.at(-1);
        if (current === undefined || current.status === undefined || current.body !== undefined) {
          throw new Error(
            `${where}: a json block must be the response of an exchange (after its status line)`,
          );
        }
        current.body = content.join("\n");
      } else if (lang === "sh") {
        for (const command of content) {
          if (/^curl /.test(command) && !command.includes("<")) curls.push(command.replace(/\s+#.*$/, ""));
        }
      }
      continue;
    }
    const title = /^#{1,6} (.*)$/.exec(line);
    if (title) heading = title[1]!;
    const directive = /^<!-- replay: (.*) -->$/.exec(line);
    if (directive) directives.push(directive[1]!.trim());
    const status = /^Response `(\d{3})[^`]*`(.*)$/.exec(line);
    if (status) {
      const current = exchanges.at(-1);
      if (current === undefined || current.status !== undefined) {
        throw new Error(`${where}: a status line must follow an exchange's request`);
      }
      current.status = Number(status[1]);
      for (const h of status[2]!.matchAll(/`([^`:]+):\s*([^`]*)`/g)) {
        current.responseHeaders.push([h[1]!.trim(), h[2]!.trim()]);
      }
    }
  }
  for (const exchange of exchanges) {
    if (exchange.status === undefined) {
      throw new Error(`${DOC_PATH}:${exchange.line}: the request has no "Response \`status\`" line`);
    }
  }
  return exchanges;
}

/** Splits a shell command line into words (double and single quotes, backslash-newline). */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === " " || c === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'" || c === '"') {
      const end = command.indexOf(c, i + 1);
      if (end === -1) throw new Error(`unbalanced quote in ${command}`);
      word = (word ?? "") + command.slice(i + 1, end);
      i = end;
    } else word = (word ?? "") + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The request a `curl` command sends: method, URL, headers, body. */
function curlRequest(command: string) {
  const words = shellWords(command);
  let method: string | undefined;
  let url = "";
  const headers: [string, string][] = [];
  let body: string | undefined;
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (word === "-X" || word === "--request") method = words[++i];
    else if (word === "-H" || word === "--header") {
      const h = words[++i]!;
      const colon = h.indexOf(":");
      headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
    } else if (word === "-d" || word === "--data" || word === "--data-raw") body = words[++i];
    else if (word.startsWith("-")) throw new Error(`unknown curl option ${word} in ${command}`);
    else url = word;
  }
  return { method: method ?? (body === undefined ? "GET" : "POST"), url, headers, body };
}

// ------------------------------------------------------------------------------------------ the server

interface DocServer {
  readonly base: string;
  /** Holds the next call into the payment store until `release` resolves; `entered` when it is held. */
  hold(): { entered: Promise<void>; release: () => void };
  /** Moves the clock forward. */
  advance(ms: number): void;
  /** Runs the relay once: the webhook sink gets every event not handed to it yet. */
  relay(): Promise<void>;
  /** Records a last failed attempt on each endpoint's oldest due delivery; answers how many died. */
  exhaustDueDeliveries(): Promise<number>;
  close(): Promise<void>;
}

/** What every endpoint host name resolves to in the test server: a public address, and no DNS is asked. */
const PUBLIC_ADDRESS = "93.184.215.14";

/** An IP literal resolves to itself, as the system resolver does; any name to {@link PUBLIC_ADDRESS}. */
async function resolveHost(hostname: string): Promise<string[]> {
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  return [isIP(bare) === 0 ? PUBLIC_ADDRESS : bare];
}

const PAYMENT_METHODS = new Set(["get", "insert", "compareAndSwap", "findDue", "readEvents", "list"]);

/**
 * The demo server's API as `pnpm start` wires it (same seed, key, title, `urlFor` and `docsBaseUrl`,
 * webhook endpoints that may reach loopback receivers, the event feed), on a memory store behind a gate,
 * with a clock that never repeats a millisecond (so "newest first" is the order of creation), plus the
 * doc's read-only key. Endpoint hosts resolve through {@link resolveHost}, and the relay runs only when
 * an example asks for it (`relay`); no dispatcher runs, so deliveries stay as the examples left them.
 */
async function startDocServer(): Promise<DocServer> {
  const store = createMemoryStore();
  let gate: { entered: () => void; released: Promise<void> } | undefined;
  const gated = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!PAYMENT_METHODS.has(String(property))) return method.bind(target);
      return async (...args: unknown[]) => {
        const held = gate;
        if (held !== undefined) {
          gate = undefined;
          held.entered();
          await held.released;
        }
        return method.apply(target, args);
      };
    },
  }) as PaymentStore;

  let offsetMs = 0;
  let last = 0;
  const clock: Clock = {
    now: () => {
      last = Math.max(Date.now() + offsetMs, last + 1);
      return new Date(last);
    },
  };

  let handler: (request: Request, env?: object) => Response | Promise<Response> = () =>
    new Response("starting", { status: 503 });
  const server: ServerHandle = await serve({
    app: { fetch: (request, env) => handler(request, env) },
    port: 0,
  });
  const base = server.url;
  const urlFor = (payment: { id: string }) => `${base}/pay/${payment.id}`;
  await seedDemo(store, { urlFor, clock });
  const relay = createRelay({ store, sinks: [createWebhookSink({ store, clock })], clock });
  const app = createPaylinkApp({
    links: createPaymentLinks({ store: gated, clock, urlFor }),
    idempotency: store,
    clock,
    webhooks: createWebhookEndpoints({ store, allow: { loopback: true }, resolveHost, clock }),
    events: store,
    docsBaseUrl: base,
    title: "Paylink demo API",
    onError: () => undefined,
    authenticate: staticKeys({
      [DEMO_KEY]: { accountId: DEMO_ACCOUNT, livemode: false, canWrite: true },
      [READ_ONLY_KEY]: { accountId: DEMO_ACCOUNT, livemode: false, canWrite: false },
    }),
  });
  handler = (request, env) => app.fetch(request, env);
  return {
    base,
    hold() {
      let entered!: () => void;
      let release!: () => void;
      const enteredPromise = new Promise<void>((resolve) => {
        entered = resolve;
      });
      gate = { entered, released: new Promise<void>((resolve) => (release = resolve)) };
      return { entered: enteredPromise, release };
    },
    advance(ms) {
      offsetMs += ms;
    },
    async relay() {
      const runs = await relay.runOnce();
      const stuck = runs.filter((run) => run.outcome !== "caught_up");
      if (stuck.length > 0) throw new Error(`the relay did not catch up: ${JSON.stringify(stuck)}`);
    },
    async exhaustDueDeliveries() {
      const owner = "http-docs-test";
      const now = clock.now();
      const due = await store.leaseDueDeliveries(
        owner,
        now.toISOString(),
        new Date(now.getTime() + 60_000).toISOString(),
        100,
      );
      // What the dispatcher writes when the attempt after its schedule's last pause fails too: the
      // endpoint's run of failures (begun now if none was) and the delivery, dead.
      for (const delivery of due) {
        const at = clock.now().toISOString();
        const scope = { accountId: delivery.accountId, livemode: delivery.livemode };
        const endpoint = await store.getEndpoint(scope, delivery.endpointId);
        if (endpoint === undefined) throw new Error(`no endpoint for ${delivery.id}`);
        if (endpoint.failingSince === null) {
          const { status, disabledReason } = endpoint;
          await store.updateEndpoint(scope, endpoint.id, { status, disabledReason, failingSince: at });
        }
        const recorded = await store.recordAttempt(delivery.id, owner, {
          status: "dead",
          attempts: DEFAULT_RETRY_SCHEDULE_MS.length + 1,
          lastStatusCode: 500,
          lastError: "HTTP 500",
          nextAttemptAt: null,
          updatedAt: at,
        });
        if (!recorded) throw new Error(`the lease on ${delivery.id} was lost`);
      }
      return due.length;
    },
    async close() {
      await relay.stop();
      await server.close();
    },
  };
}

// -------------------------------------------------------------------------------------------- replay

/** The doc's text for the server under test: its address, and `<N × c>` spelled out. */
const localize = (text: string, base: string): string =>
  text
    .replaceAll(DOC_BASE, base)
    .replace(/<(\d+) × (.)>/g, (_, count: string, char: string) => char.repeat(Number(count)));

/** A request's text: {@link localize}d, and named placeholders replaced by the values they bound. */
const substitute = (text: string, base: string, bindings: Bindings): string =>
  localize(text, base).replace(NAMED_PLACEHOLDER, (whole, name: string) => {
    const value = bindings.get(name);
    if (value === undefined) throw new Error(`${whole} is used in a request before a response bound it`);
    return value;
  });

function toFetch(exchange: Exchange, base: string, bindings: Bindings) {
  const { method, target, headers, body } = exchange.request;
  const init: RequestInit = {
    method,
    headers: headers.map(([name, value]): [string, string] => [name, substitute(value, base, bindings)]),
  };
  // Bytes, so fetch adds no Content-Type of its own: the request has exactly the documented headers.
  if (body !== undefined) init.body = new TextEncoder().encode(substitute(body, base, bindings));
  return { url: `${base}${substitute(target, base, bindings)}`, init };
}

const markdown = readFileSync(`${root}${DOC_PATH}`, "utf8");
const exchanges = parseExchanges(markdown);

describe(`${DOC_PATH}: every example exchange, replayed in order against a real server`, () => {
  let server: DocServer;
  const bindings: Bindings = new Map();
  beforeAll(async () => {
    server = await startDocServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  for (const exchange of exchanges) {
    const { method, target } = exchange.request;
    it(`#${exchange.number} (line ${exchange.line}) ${method} ${target} → ${exchange.status}`, async () => {
      const where = `${DOC_PATH}:${exchange.line} (${exchange.heading})`;
      const request = toFetch(exchange, server.base, bindings);

      for (const command of exchange.curls) {
        const curl = curlRequest(substitute(command, server.base, bindings));
        expect(
          {
            method: curl.method,
            url: curl.url,
            headers: curl.headers.map(([n, v]) => [n.toLowerCase(), v]),
            body: curl.body,
          },
          `${where}: the curl line sends the exchange's request: ${command}`,
        ).toEqual({
          method,
          url: request.url,
          headers: exchange.request.headers.map(([n, v]) => [n.toLowerCase(), v]),
          body:
            exchange.request.body === undefined
              ? undefined
              : substitute(exchange.request.body, server.base, bindings),
        });
      }

      let first: Promise<Response> | undefined;
      let release = () => {};
      for (const directive of exchange.directives) {
        const later = /^clock \+(\d+)h$/.exec(directive);
        if (later) server.advance(Number(later[1]) * 3_600_000);
        else if (directive === "relay") await server.relay();
        else if (directive === "dead") {
          const died = await server.exhaustDueDeliveries();
          if (died === 0) throw new Error(`${where}: "dead" found no due delivery to exhaust`);
        } else if (directive === "in flight") {
          const held = server.hold();
          release = held.release;
          first = fetch(request.url, request.init);
          // The first request must reach the store (and so hold its key); one answered before is a setup error.
          const answered = first.then((r) => {
            throw new Error(`${where}: the request meant to be in flight was answered at once (${r.status})`);
          });
          answered.catch(() => {});
          await Promise.race([held.entered, answered]);
        } else throw new Error(`${where}: unknown replay directive "${directive}"`);
      }

      let response: Response;
      try {
        response = await fetch(request.url, request.init);
      } finally {
        release();
      }
      if (first !== undefined)
        expect((await first).status, `${where}: the request in flight`).toBeLessThan(500);

      const text = await response.text();
      const context = `${where}\nactual response ${response.status}:\n${text}`;
      expect(response.status, context).toBe(exchange.status);
      for (const [name, value] of exchange.responseHeaders) {
        expect(response.headers.get(name), `${context}\nheader ${name}`).toBe(value);
      }
      if (exchange.body !== undefined) {
        const expected = parseJson(localize(exchange.body, server.base));
        const actual = parseJson(text);
        const problems = compareJson(expected, actual, bindings);
        expect(problems, `${where}\nactual body:\n${printJson(actual)}`).toEqual([]);
      }
      expect(shownSecrets(exchange.body, text, bindings), `${context}\nshows a secret again`).toEqual([]);
    });
  }
});

describe(`${DOC_PATH}: coverage`, () => {
  it("has exchanges for every route and every documented status", () => {
    const seen = new Set(exchanges.map((e) => `${e.request.method} ${e.request.target.replace(/\?.*/, "")}`));
    const routes = [
      /^POST \/payments\/[^/]+\/cancel$/,
      /^POST \/payments$/,
      /^GET \/payments\/[^/]+$/,
      /^GET \/payments$/,
      /^POST \/v1\/payment-links\/[^/]+\/cancellation$/,
      /^POST \/v1\/payment-links$/,
      /^GET \/v1\/payment-links\/[^/]+$/,
      /^GET \/openapi\.json$/,
      /^GET \/docs$/,
      /^POST \/webhook_endpoints$/,
      /^GET \/webhook_endpoints$/,
      /^GET \/webhook_endpoints\/[^/]+$/,
      /^DELETE \/webhook_endpoints\/[^/]+$/,
      /^GET \/webhook_endpoints\/[^/]+\/deliveries$/,
      /^POST \/webhook_endpoints\/[^/]+\/deliveries\/[^/]+\/retry$/,
      /^GET \/events$/,
    ];
    for (const route of routes)
      expect(
        [...seen].some((s) => route.test(s)),
        String(route),
      ).toBe(true);
    const statuses = new Set(exchanges.map((e) => e.status));
    for (const status of [200, 400, 401, 403, 404, 409, 413, 422])
      expect(statuses.has(status), `${status}`).toBe(true);
    expect(exchanges.filter((e) => e.body !== undefined).length).toBeGreaterThan(25);
    expect(markdown).toContain('curl -X POST "<base>/payments/<id>/cancel"');
  });
});

describe("the replay's matcher catches drift", () => {
  const bindings: Bindings = new Map();
  const check = (expected: string, actual: string) =>
    compareJson(parseJson(expected), parseJson(actual), bindings);

  it("values, key order, missing and extra keys, array lengths and number text", () => {
    expect(check('{"a":1,"b":"x"}', '{"a":1,"b":"x"}')).toEqual([]);
    expect(check('{"a":1,"b":"x"}', '{"a":1,"b":"y"}')).toHaveLength(1);
    expect(check('{"a":1,"b":"x"}', '{"b":"x","a":1}')).toHaveLength(1);
    expect(check('{"a":1}', '{"a":1,"c":null}')).toHaveLength(1);
    expect(check('{"a":1,"…":"…"}', '{"c":null,"a":1}')).toEqual([]);
    expect(check('{"a":1,"…":"…"}', '{"c":null}')).toHaveLength(1);
    expect(check("[1,2]", "[1]")).toHaveLength(1);
    expect(check('{"amount":12.00}', '{"amount":12}')).toHaveLength(1);
    expect(check("null", "false")).toHaveLength(1);
  });

  it("placeholders: kinds, embedded ones, and names that bind once", () => {
    expect(check('"<timestamp>"', '"2026-01-01T00:00:00.000Z"')).toEqual([]);
    expect(check('"<timestamp>"', '"yesterday"')).toHaveLength(1);
    expect(check('"<id>"', '"pay_AAAAAAAAAAAAAAAAAAAAAAAA"')).toEqual([]);
    expect(check('"<id>"', '"pay_demo_pending"')).toHaveLength(1);
    expect(check('"https://x/pay/<id:a>"', '"https://x/pay/pay_BBBBBBBBBBBBBBBBBBBBBBBB"')).toEqual([]);
    expect(check('"<id:a>"', '"pay_BBBBBBBBBBBBBBBBBBBBBBBB"')).toEqual([]);
    expect(check('"<id:a>"', '"pay_CCCCCCCCCCCCCCCCCCCCCCCC"')).toHaveLength(1);
    expect(substitute("GET /payments/<id:a>", "http://h", bindings)).toBe(
      "GET /payments/pay_BBBBBBBBBBBBBBBBBBBBBBBB",
    );
    expect(substitute("<3 × x>", "http://h", bindings)).toBe("xxx");
  });

  it("placeholders of webhook endpoints, deliveries, events and secrets: each only its own shape", () => {
    const we = `we_${"W".repeat(16)}`;
    const whd = `whd_${"D".repeat(16)}`;
    const evt = `evt_${"E".repeat(24)}`;
    const secret = `whsec_${"a+/B".repeat(8)}`;
    expect(check('"<we_id>"', JSON.stringify(we))).toEqual([]);
    expect(check('"<whd_id>"', JSON.stringify(whd))).toEqual([]);
    expect(check('"<evt_id>"', JSON.stringify(evt))).toEqual([]);
    expect(check('"<secret>"', JSON.stringify(secret))).toEqual([]);
    // `<id>` keeps its meaning: a payment id, nothing else; and no kind takes another's ids.
    expect(check('"<id>"', JSON.stringify(we))).toHaveLength(1);
    expect(check('"<id>"', JSON.stringify(evt))).toHaveLength(1);
    expect(check('"<we_id>"', JSON.stringify(whd))).toHaveLength(1);
    expect(check('"<whd_id>"', JSON.stringify(`whd_${"D".repeat(15)}`))).toHaveLength(1);
    expect(check('"<evt_id>"', JSON.stringify(`pay_${"E".repeat(24)}`))).toHaveLength(1);
    expect(check('"<secret>"', JSON.stringify(`whsec_${"a".repeat(31)}`))).toHaveLength(1);
    // Names bind per kind, and requests use them.
    expect(
      check('{"id":"<we_id:h>","endpointId":"<we_id:h>"}', JSON.stringify({ id: we, endpointId: we })),
    ).toEqual([]);
    expect(check('"<we_id:h>"', JSON.stringify(`we_${"X".repeat(16)}`))).toHaveLength(1);
    expect(check('"<whd_id:d>"', JSON.stringify(whd))).toEqual([]);
    expect(
      substitute("POST /webhook_endpoints/<we_id:h>/deliveries/<whd_id:d>/retry", "http://h", bindings),
    ).toBe(`POST /webhook_endpoints/${we}/deliveries/${whd}/retry`);
  });

  it("a bound secret shown again by a response that does not document it fails", () => {
    const secrets: Bindings = new Map();
    const secret = `whsec_${"s".repeat(32)}`;
    const created = '{"data":{"secret":"<secret:s>"}}';
    expect(compareJson(parseJson(created), parseJson(`{"data":{"secret":"${secret}"}}`), secrets)).toEqual(
      [],
    );
    expect(shownSecrets(created, `{"data":{"secret":"${secret}"}}`, secrets)).toEqual([]);
    expect(
      shownSecrets('{"data":{"…":"…"}}', `{"data":{"id":"we_1","secret":"${secret}"}}`, secrets),
    ).toEqual(["<secret:s>"]);
    expect(shownSecrets(undefined, `<p>${secret}</p>`, secrets)).toEqual(["<secret:s>"]);
    expect(shownSecrets('{"data":{"…":"…"}}', '{"data":{"id":"we_1"}}', secrets)).toEqual([]);
  });

  /** A value of each placeholder kind, as a server answering exactly as documented would send. */
  const SAMPLE: Record<string, string> = {
    timestamp: "2026-01-01T00:00:00.000Z",
    id: `pay_${"A".repeat(24)}`,
    evt_id: `evt_${"A".repeat(24)}`,
    we_id: `we_${"A".repeat(16)}`,
    whd_id: `whd_${"A".repeat(16)}`,
    secret: `whsec_${"A".repeat(32)}`,
  };

  it("a documented body that differs from the server's in one value fails", () => {
    const cancel = exchanges.find((e) => e.body !== undefined && e.status === 200);
    const register = exchanges.find(
      (e) => e.request.target === "/webhook_endpoints" && e.request.method === "POST" && e.status === 200,
    );
    for (const example of [cancel, register]) {
      expect(example).toBeDefined();
      const documented = parseJson(example!.body!);
      // What a server answering exactly as documented would send: placeholders filled with sample values.
      const exact = parseJson(example!.body!.replace(PLACEHOLDER, (_, kind: string) => SAMPLE[kind]!)) as {
        [key: string]: Json;
      };
      expect(compareJson(documented, exact, new Map())).toEqual([]);
      expect(compareJson(documented, { ...exact, extra: "drift" }, new Map())).not.toEqual([]);
      const data = exact.data as { [key: string]: Json };
      const changed = { ...exact, data: { ...data, status: "drifted" } };
      expect(compareJson(documented, changed, new Map())).toEqual([
        `$.data.status: documented ${JSON.stringify(data.status)}, got "drifted"`,
      ]);
    }
  });

  it("the curl parser reads method, URL, headers and body", () => {
    expect(
      curlRequest(
        `curl -X POST "http://h/payments" -H "x-api-key: k" -H 'Content-Type: application/json' -d '{"a": 1}'`,
      ),
    ).toEqual({
      method: "POST",
      url: "http://h/payments",
      headers: [
        ["x-api-key", "k"],
        ["Content-Type", "application/json"],
      ],
      body: '{"a": 1}',
    });
  });
});
