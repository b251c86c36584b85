/**
 * Test helpers: temporary database files, an independent raw-SQL probe, and child processes running
 * test/fixtures/worker.ts through tsx.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DomainEvent, Payment, Scope, StoredPayment } from "@paylink/core";
import type { StoreProbe } from "@paylink/testing";
import Database from "better-sqlite3";

/** A fresh temporary directory; `cleanup` removes it and everything in it. */
export function tempDir(): { dir: string; file: (name?: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "paylink-sqlite-"));
  let n = 0;
  return {
    dir,
    file: (name) => join(dir, name ?? `db-${++n}.sqlite`),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Opens a connection of its own to `filename`, independent of the store under test. */
export function rawDb(filename: string, options: Database.Options = {}): Database.Database {
  return new Database(filename, { fileMustExist: true, ...options });
}

/**
 * Reads what was persisted with raw SQL on its own connection. It also checks that the columns the store
 * queries by (status, expires_at, created_at, kind, scope) agree with the stored payment JSON, since
 * findDue and list trust those columns.
 */
export function rawProbe(db: Database.Database): StoreProbe {
  const getRow = db.prepare("SELECT * FROM payments WHERE id = ? AND account_id = ? AND livemode = ?");
  const eventRows = db.prepare(
    "SELECT * FROM outbox WHERE payment_id = ? AND account_id = ? AND livemode = ? ORDER BY sequence",
  );
  return {
    async raw(scope: Scope, id: string): Promise<StoredPayment | undefined> {
      const row = getRow.get(id, scope.accountId, scope.livemode ? 1 : 0) as
        | Record<string, unknown>
        | undefined;
      if (row === undefined) return undefined;
      const payment = JSON.parse(row.payment as string) as Payment;
      const columns = {
        id: row.id,
        kind: row.kind,
        status: row.status,
        expiresAt: row.expires_at,
        createdAt: row.created_at,
      };
      const expected = {
        id: payment.id,
        kind: payment.kind,
        status: payment.status,
        expiresAt: payment.expiresAt === null ? null : Date.parse(payment.expiresAt),
        createdAt: payment.createdAt,
      };
      if (JSON.stringify(columns) !== JSON.stringify(expected))
        throw new Error(
          `columns ${JSON.stringify(columns)} disagree with the JSON ${JSON.stringify(expected)}`,
        );
      return { payment, version: row.version as number };
    },
    async events(scope: Scope, id: string): Promise<DomainEvent[]> {
      const rows = eventRows.all(id, scope.accountId, scope.livemode ? 1 : 0) as Record<string, unknown>[];
      return rows.map((row) => {
        const event = JSON.parse(row.event as string) as DomainEvent;
        if (row.event_id !== event.id || row.type !== event.type)
          throw new Error(`outbox columns disagree with the event ${event.id}`);
        return event;
      });
    },
  };
}

const root = fileURLToPath(new URL("../../../", import.meta.url));
const workerPath = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url));

/** A running worker process with line-based stdout. */
export interface Worker {
  readonly child: ChildProcessWithoutNullStreams;
  /** Complete stdout lines so far. */
  readonly lines: string[];
  /** Everything written to stderr. */
  stderr(): string;
  /** Resolves with the first line matching `predicate` (rejects if the process exits first). */
  waitFor(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal) once the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node --import tsx test/fixtures/worker.ts ...args` from the repository root (where tsx and the
 * tsconfig `paths` that map `@paylink/*` to sources are). Node runs the worker itself, without tsx's CLI
 * wrapper process, so a `kill -9` of `child.pid` kills the writer itself.
 */
export function startWorker(args: readonly string[]): Worker {
  const child = spawn(process.execPath, ["--import", "tsx", workerPath, ...args], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let partial = "";
  let errors = "";
  const listeners = new Set<() => void>();
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    errors += chunk;
  });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      done = true;
      for (const listener of [...listeners]) listener();
      resolve({ code, signal });
    });
  });
  const waitFor = (predicate: (line: string) => boolean, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`worker ${args.join(" ")}: timed out; stderr: ${errors}`));
      }, timeoutMs);
      const check = () => {
        const found = lines.find(predicate);
        if (found !== undefined || done) {
          clearTimeout(timer);
          listeners.delete(check);
          if (found !== undefined) resolve(found);
          else reject(new Error(`worker ${args.join(" ")} exited early; stderr: ${errors}`));
        }
      };
      listeners.add(check);
      check();
    });
  return { child, lines, stderr: () => errors, waitFor, exited };
}
