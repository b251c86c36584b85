import type { AddressInfo } from "node:net";

/** A running Node HTTP server. */
export interface ServerHandle {
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  readonly hostname: string;
  /** `http://<hostname>:<port>`. */
  readonly url: string;
  /**
   * Stops accepting connections, lets requests in flight finish (closing idle keep-alive connections at
   * once), and resolves when the server is closed. After `graceMs` (default 10 s) the remaining
   * connections are cut.
   */
  close(graceMs?: number): Promise<void>;
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Anything with a standard `fetch(request)`: the app of `createPaylinkApp`, or a wrapper around it. */
  readonly app: { fetch: (request: Request, env?: object) => Response | Promise<Response> };
  /** Default 3000; 0 picks a free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly hostname?: string;
}

/**
 * Serves `app` on Node with `@hono/node-server` (loaded on first use, so the package stays importable
 * on runtimes without `node:http`). Resolves once the port is bound.
 *
 * @example
 * const server = await serve({ app, port: 3000 });
 * process.once("SIGTERM", () => void server.close());
 */
export async function serve(options: ServeOptions): Promise<ServerHandle> {
  const { serve: nodeServe } = await import("@hono/node-server");
  const hostname = options.hostname ?? "127.0.0.1";
  // The adapter's bindings (`{ incoming, outgoing }`) go through: the app reads bodies faster with them.
  const fetch = (request: Request, env: object) => options.app.fetch(request, env);
  const info = await new Promise<{ server: ReturnType<typeof nodeServe>; address: AddressInfo }>(
    (resolve, reject) => {
      const server = nodeServe({ fetch, port: options.port ?? 3000, hostname }, (address) =>
        resolve({ server, address }),
      );
      server.once("error", reject);
    },
  );
  const server = info.server as import("node:http").Server;
  let closing: Promise<void> | undefined;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    port: info.address.port,
    hostname,
    url: `http://${host}:${info.address.port}`,
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        // Keep-alive connections become idle once their request is answered: close them as they do.
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        cut.unref();
        sweep.unref();
        server.close(() => {
          clearTimeout(cut);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
