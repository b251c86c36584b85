import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type DnaCallback, dnaCallbackSignature } from "../src/index.js";

/** How the fake answers every request until `restore()`. */
export type Outage = "refused" | "500" | "429" | "hang";

/** A link as the fake stores it (DNA's fields, seed 004). */
export interface FakeLink {
  id: string;
  amount: number;
  currency: string;
  invoiceId: string | null;
  terminalId: string;
  customerName: string;
  description: string | null;
  merchantCustomData: string | null;
  createdDate: string;
  expirationDate: string;
  viewedDate: string | null;
  attemptedDate: string | null;
  paidDate: string | null;
  cancelledDate: string | null;
  status: "active" | "viewed" | "attempted" | "expired" | "cancelled" | "paid";
  url: string;
}

/** Options of {@link startFakeDna}. */
export interface FakeDnaOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly terminalId?: string;
  /** `expires_in` of the tokens it issues, in seconds. Default 7200. */
  readonly tokenTtlSeconds?: number;
}

/** Every request the fake received, for assertions. */
export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly authorization: string | undefined;
}

const CANCELLABLE = new Set(["active", "viewed", "attempted"]);

/**
 * A local, stateful stand-in for DNA: `POST /oauth2/token` (client credentials) and the payment-link API
 * (`/v1/payment-links` create, list, get, cancellation).
 * Errors are DNA's 422 `{code, message}`; an unknown or expired token is a 401. Customer actions
 * (`pay`, `fail`) answer the callback DNA would post, signed as DNA signs it.
 */
export async function startFakeDna(options: FakeDnaOptions = {}) {
  const clientId = options.clientId ?? "paylink-test";
  const clientSecret = options.clientSecret ?? "dna-secret";
  const terminalId = options.terminalId ?? "b95c8b2c-5f5a-4a05-8b1a-b1f4bba0d2a7";
  const links = new Map<string, FakeLink>();
  const tokens = new Map<string, { scope: string; expiresAt: number }>();
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const hung = new Set<Socket>();
  let outage: Outage | undefined;
  let tokenTtlSeconds = options.tokenTtlSeconds ?? 7200;
  let rejectAllTokens = false;
  let refuseCancellations = false;

  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        body,
        authorization: req.headers.authorization,
      });
      if (outage === "hang") {
        hung.add(req.socket); // never answered; the socket is destroyed on restore or close
        return;
      }
      if (outage === "500") return json(res, 500, { code: 500, message: "Internal Server Error" });
      if (outage === "429") {
        res.setHeader("retry-after", "2");
        return json(res, 429, { code: 429, message: "Too Many Requests" });
      }
      handle(req, res, body);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;

  function json(res: ServerResponse, status: number, value: unknown) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: string) {
    const url = new URL(req.url ?? "/", baseUrl);
    if (req.method === "POST" && url.pathname === "/oauth2/token") return token(res, body);
    const scope = authorize(req);
    if (scope === undefined)
      return json(res, 401, { code: 401, message: "Invalid authentication credentials" });
    if (scope !== "pay_by_link") return json(res, 403, { code: 403, message: "Insufficient permissions" });
    const match = /^\/v1\/payment-links(?:\/([^/]+))?(\/cancellation)?\/?$/.exec(url.pathname);
    if (!match) return json(res, 404, { code: 404, message: "Not Found" });
    const [, id, cancellation] = match;
    if (!id && req.method === "POST") return create(res, body);
    if (!id && req.method === "GET") return list(res, url.searchParams);
    const link = id ? read(decodeURIComponent(id)) : undefined;
    if (!link) return json(res, 422, { code: 275, message: "Invalid payment link ID" });
    if (req.method === "GET" && !cancellation) return json(res, 200, link);
    if (req.method === "POST" && cancellation) {
      if (refuseCancellations) {
        return json(res, 422, { code: 299, message: "Payment link cannot be cancelled at this time" });
      }
      if (!CANCELLABLE.has(link.status)) {
        return json(res, 422, {
          code: 276,
          message: "Only a payment link with the Status active, viewed or attempted can be cancelled",
        });
      }
      link.status = "cancelled";
      link.cancelledDate = new Date().toISOString();
      return json(res, 200, link);
    }
    return json(res, 404, { code: 404, message: "Not Found" });
  }

  function token(res: ServerResponse, body: string) {
    const form = new URLSearchParams(body);
    if (form.get("grant_type") !== "client_credentials") {
      return json(res, 400, { error: "unsupported_grant_type" });
    }
    if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret) {
      return json(res, 401, { error: "invalid_client", error_description: "Bad client credentials" });
    }
    const scope = form.get("scope") ?? "";
    if (scope !== "pay_by_link") return json(res, 400, { error: "invalid_scope" });
    const accessToken = randomBytes(24).toString("base64url");
    tokens.set(accessToken, { scope, expiresAt: Date.now() + tokenTtlSeconds * 1000 });
    json(res, 200, {
      access_token: accessToken,
      expires_in: tokenTtlSeconds,
      refresh_token: "",
      scope,
      token_type: "Bearer",
    });
  }

  function authorize(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization ?? "";
    const entry = header.startsWith("Bearer ") ? tokens.get(header.slice(7)) : undefined;
    if (!entry || rejectAllTokens || Date.now() >= entry.expiresAt) return undefined;
    return entry.scope;
  }

  function create(res: ServerResponse, body: string) {
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body);
    } catch {
      return json(res, 400, { code: 400, message: "Malformed JSON" });
    }
    const { amount, currency, terminalId: terminal, expirationDate, customerName } = input;
    if (typeof amount !== "number" || amount <= 0 || typeof currency !== "string") {
      return json(res, 400, { code: 400, message: "amount and currency are mandatory" });
    }
    if (typeof expirationDate !== "string" || typeof customerName !== "string" || customerName === "") {
      return json(res, 400, { code: 400, message: "expirationDate and customerName are mandatory" });
    }
    if (terminal !== terminalId) return json(res, 422, { code: 201, message: "Invalid terminal ID" });
    if (currency === "XXX") return json(res, 422, { code: 207, message: "Currency is not supported" });
    const id = randomBytes(6).toString("base64url").slice(0, 9);
    const link: FakeLink = {
      id,
      amount,
      currency,
      invoiceId: typeof input.invoiceId === "string" ? input.invoiceId : null,
      terminalId,
      customerName,
      description: typeof input.description === "string" ? input.description : null,
      merchantCustomData: typeof input.merchantCustomData === "string" ? input.merchantCustomData : null,
      createdDate: new Date().toISOString(),
      expirationDate,
      viewedDate: null,
      attemptedDate: null,
      paidDate: null,
      cancelledDate: null,
      status: "active",
      url: `${baseUrl}/checkout/?r=${id}`,
    };
    links.set(id, link);
    json(res, 200, publicLink(link));
  }

  function list(res: ServerResponse, query: URLSearchParams) {
    const from = Date.parse(query.get("from") ?? "");
    const to = Date.parse(query.get("to") ?? "");
    if (query.get("terminalId") !== terminalId || Number.isNaN(from) || Number.isNaN(to)) {
      return json(res, 400, { code: 400, message: "terminalId, from and to are mandatory" });
    }
    const page = Number(query.get("page") ?? "1");
    const size = Math.min(Number(query.get("size") ?? "20"), 5000);
    const matching = [...links.keys()]
      .map((id) => read(id)!)
      .filter((link) => {
        const created = Date.parse(link.createdDate);
        return created >= from && created <= to;
      });
    json(res, 200, {
      totalCount: matching.length,
      records: matching.slice((page - 1) * size, page * size).map(publicLink),
    });
  }

  const transactionIds = new Map<string, string>();
  function transactionOf(link: FakeLink): string {
    let id = transactionIds.get(link.id);
    if (!id) {
      id = `${randomBytes(4).toString("hex")}-tx-${link.id}`;
      transactionIds.set(link.id, id);
    }
    return id;
  }

  /** The link with its expiry applied, as DNA would show it. */
  function read(id: string): FakeLink | undefined {
    const link = links.get(id);
    if (link && CANCELLABLE.has(link.status) && Date.parse(link.expirationDate) <= Date.now()) {
      link.status = "expired";
    }
    return link;
  }

  function publicLink(link: FakeLink) {
    const { merchantCustomData: _hidden, customerName, ...rest } = link;
    return { ...rest, customerName };
  }

  function callback(
    link: FakeLink,
    success: boolean,
    transactionId: string,
    secret = clientSecret,
  ): DnaCallback {
    const fields = {
      id: transactionId,
      invoiceId: link.invoiceId ?? "",
      amount: link.amount,
      currency: link.currency,
      errorCode: success ? 0 : 1103,
      success,
    };
    return {
      ...fields,
      message: success ? "Approved" : "Declined by the issuer",
      settled: success,
      merchantCustomData: link.merchantCustomData,
      signature: dnaCallbackSignature(fields, secret),
    } as DnaCallback;
  }

  function mustRead(reference: string): FakeLink {
    const link = read(reference);
    if (!link) throw new Error(`fake DNA: no link ${reference}`);
    return link;
  }

  return {
    baseUrl,
    clientId,
    clientSecret,
    terminalId,
    requests,
    links,
    /** The customer pays link `reference`; answers the success callback DNA posts. */
    pay(reference: string): DnaCallback {
      const link = mustRead(reference);
      if (!CANCELLABLE.has(link.status)) throw new Error(`fake DNA: link ${reference} is ${link.status}`);
      link.status = "paid";
      link.attemptedDate ??= new Date().toISOString();
      link.paidDate = new Date().toISOString();
      return callback(link, true, transactionOf(link));
    },
    /** A payment attempt on link `reference` fails; answers the failure callback DNA posts. */
    fail(reference: string): DnaCallback {
      const link = mustRead(reference);
      link.status = link.status === "active" || link.status === "viewed" ? "attempted" : link.status;
      link.attemptedDate ??= new Date().toISOString();
      return callback(link, false, `${randomBytes(4).toString("hex")}-failed-${link.id}`);
    },
    /** A callback for `reference` signed with another key (another account's secret, or a forger's). */
    signedWith(reference: string, secret: string): DnaCallback {
      const link = mustRead(reference);
      return callback(link, true, transactionOf(link), secret);
    },
    /** The transaction id of a paid link (what the success callback carried). */
    transactionOf: (reference: string) => transactionOf(mustRead(reference)),
    /** Moves link `reference` past its expiry. */
    expire(reference: string) {
      mustRead(reference).expirationDate = new Date(Date.now() - 1000).toISOString();
    },
    /** Every token issued so far answers 401 (and new ones too while `on`). */
    rejectTokens(on: boolean) {
      rejectAllTokens = on;
      if (on) tokens.clear();
    },
    /** Every cancellation answers 422 and leaves the link as it is (while `on`). */
    refuseCancellations(on: boolean) {
      refuseCancellations = on;
    },
    /** Drops every issued token: the next call with one gets 401. */
    expireTokens() {
      tokens.clear();
    },
    setTokenTtl(seconds: number) {
      tokenTtlSeconds = seconds;
    },
    tokenRequests: () => requests.filter((r) => r.path === "/oauth2/token"),
    async outage(kind: Outage) {
      outage = kind;
      if (kind === "refused") {
        await close();
      }
    },
    async restore() {
      const wasRefused = outage === "refused";
      outage = undefined;
      for (const socket of hung) socket.destroy();
      hung.clear();
      if (wasRefused) await listen(server, port);
    },
    close,
  };

  async function close() {
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** The fake DNA server started by {@link startFakeDna}. */
export type FakeDna = Awaited<ReturnType<typeof startFakeDna>>;
