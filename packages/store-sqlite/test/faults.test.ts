/**
 * A bad file, a damaged schema, a locked database, a closed store: every command answers
 * `store_unavailable` with a clear cause, the process goes on, and nothing is ever half written.
 */
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from "node:fs";
import { createPaymentLinks, type PaylinkError, type Scope } from "@paylink/core";
import { sampleLinkInput } from "@paylink/testing";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { toStoreError } from "../src/errors.js";
import {
  createSqliteStore,
  type SqliteStore,
  SqliteStoreError,
  type SqliteStoreErrorCode,
} from "../src/index.js";
import { rawDb, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const scope: Scope = { accountId: "acct_faults", livemode: false };
const input = sampleLinkInput(new Date(), { expiresAt: new Date(Date.now() + 86_400_000) });

/** A fresh Paylink file with one pending link in it; the store is closed again. */
async function paylinkFileWithLink(): Promise<{ file: string; id: string }> {
  const file = tmp.file();
  const store = createSqliteStore({ filename: file });
  const id = (await createPaymentLinks({ store }).create(scope, input))._unsafeUnwrap().id;
  store.close();
  return { file, id };
}

/**
 * Asserts `error` is a SqliteStoreError with `code` and a matching message; with `driver`, its cause is the
 * driver's error, matching `driver` (the store's messages are fixed and never carry the driver's text).
 */
function expectStoreError(error: unknown, code: SqliteStoreErrorCode, message: RegExp, driver?: RegExp) {
  expect(error).toBeInstanceOf(SqliteStoreError);
  expect((error as SqliteStoreError).code).toBe(code);
  expect((error as SqliteStoreError).message).toMatch(/^SQLite store: /);
  expect((error as SqliteStoreError).message).toMatch(message);
  if (driver !== undefined) expect(String((error as SqliteStoreError).cause)).toMatch(driver);
}

/** Asserts an error is store_unavailable caused by a SqliteStoreError (see {@link expectStoreError}). */
function expectUnavailable(
  error: PaylinkError,
  code: SqliteStoreErrorCode,
  message: RegExp,
  driver?: RegExp,
) {
  expect(error.code).toBe("store_unavailable");
  expectStoreError((error as { cause?: unknown }).cause, code, message, driver);
}

/** What a promise rejected with; fails if it resolved. */
const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );

/** Every command of core over `store` answers store_unavailable with the given cause. */
async function expectEveryCommandUnavailable(
  store: SqliteStore,
  id: string,
  code: SqliteStoreErrorCode,
  message: RegExp,
  driver?: RegExp,
) {
  const links = createPaymentLinks({ store });
  const answers = [
    await links.create(scope, input),
    await links.get(scope, id),
    await links.cancel(scope, id),
    await links.view(scope, id),
    await links.startPayment(scope, id),
    await links.list(scope),
    await links.events(),
    await links.expireDue(),
  ];
  for (const answer of answers) expectUnavailable(answer._unsafeUnwrapErr(), code, message, driver);
  // The port itself rejects (never throws synchronously), idempotency methods included.
  const now = new Date().toISOString();
  const record = { key: "k", fingerprint: "f", response: null, createdAt: now, token: "t", lockedUntil: now };
  const rejections = await Promise.all(
    [
      store.claimIdempotencyKey(scope, record, "2000-01-01"),
      store.completeIdempotencyKey(scope, "k", "t", { status: 200, body: "" }),
      store.releaseIdempotencyKey(scope, "k", "t"),
      store.findDue(new Date().toISOString(), 10),
    ].map(rejectionOf),
  );
  for (const rejection of rejections) expectStoreError(rejection, code, message, driver);
}

describe("a bad file", () => {
  test("random bytes: not a SQLite database; createSqliteStore does not throw, commands do not crash", async () => {
    const file = tmp.file();
    writeFileSync(file, randomBytes(64 * 1024));
    let store: SqliteStore | undefined;
    expect(() => {
      store = createSqliteStore({ filename: file });
    }).not.toThrow();
    await expectEveryCommandUnavailable(store!, "pay_x", "not_a_database", /not a Paylink database/);
    expect(() => store!.migrate()).toThrow(SqliteStoreError);
    store!.close();
  });

  test("a Paylink file whose pages were overwritten: the database is corrupt", async () => {
    const { file, id } = await paylinkFileWithLink();
    // Keep page 1 (the header and the schema), overwrite every page after it.
    const fd = openSync(file, "r+");
    writeSync(fd, randomBytes(statSync(file).size - 4096), 0, undefined, 4096);
    closeSync(fd);
    const store = createSqliteStore({ filename: file });
    await expectEveryCommandUnavailable(store, id, "corrupt", /database is corrupt/);
    store.close();
  });

  test("a foreign SQLite file (other tables, no Paylink schema) is refused and left untouched", async () => {
    const file = tmp.file();
    const foreign = new Database(file);
    foreign.exec(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada');",
    );
    foreign.close();
    const store = createSqliteStore({ filename: file });
    await expectEveryCommandUnavailable(store, "pay_x", "not_a_database", /not a Paylink database.*users/);
    store.close();
    const db = rawDb(file, { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()).toEqual([
      "users",
    ]);
    expect(db.prepare("SELECT name FROM users").pluck().all()).toEqual(["ada"]);
    db.close();
  });

  test("a Paylink file whose payments table was dropped: schema mismatch at open", async () => {
    const { file, id } = await paylinkFileWithLink();
    const db = rawDb(file);
    db.exec("DROP TABLE payments");
    db.close();
    const store = createSqliteStore({ filename: file });
    await expectEveryCommandUnavailable(
      store,
      id,
      "schema_mismatch",
      /its tables were altered/,
      /no such table: payments/,
    );
    store.close();
  });

  test("a file written by a newer schema version is refused", async () => {
    const { file, id } = await paylinkFileWithLink();
    const db = rawDb(file);
    db.prepare("INSERT INTO paylink_schema_migrations VALUES (99, 'from the future', '2099-01-01')").run();
    db.close();
    const store = createSqliteStore({ filename: file });
    await expectEveryCommandUnavailable(store, id, "schema_too_new", /schema version 99/);
    store.close();
  });

  test("a directory that does not exist: cannot open, and the store recovers once it exists", async () => {
    const store = createSqliteStore({ filename: `${tmp.dir}/missing/dir/db.sqlite` });
    const links = createPaymentLinks({ store });
    expectUnavailable((await links.create(scope, input))._unsafeUnwrapErr(), "cannot_open", /cannot open/);
    mkdirSync(`${tmp.dir}/missing/dir`, { recursive: true });
    expect((await links.create(scope, input))._unsafeUnwrap().status).toBe("pending");
    store.close();
  });
});

describe("while running", () => {
  test("the outbox table dropped under an open store: the cancel fails whole, the payment is unchanged", async () => {
    const { file, id } = await paylinkFileWithLink();
    const store = createSqliteStore({ filename: file });
    const links = createPaymentLinks({ store });
    const db = rawDb(file);
    db.exec("DROP TABLE outbox");
    expectUnavailable(
      (await links.cancel(scope, id))._unsafeUnwrapErr(),
      "schema_mismatch",
      /its tables were altered/,
      /no such table: outbox/,
    );
    // The UPDATE of the payment ran before the failing INSERT into the outbox; the rollback undid it.
    expect(db.prepare("SELECT status, version FROM payments WHERE id = ?").get(id)).toEqual({
      status: "pending",
      version: 1,
    });
    db.close();
    store.close();
  });

  test("an event insert refused mid-transaction (a trigger aborts it): nothing of the transition is written", async () => {
    const { file, id } = await paylinkFileWithLink();
    const store = createSqliteStore({ filename: file });
    const links = createPaymentLinks({ store });
    const db = rawDb(file);
    db.exec(`CREATE TRIGGER refuse_events BEFORE INSERT ON outbox
      BEGIN SELECT RAISE(ABORT, 'refused by test'); END`);
    expectUnavailable((await links.cancel(scope, id))._unsafeUnwrapErr(), "constraint", /rolled back/);
    const row = () => db.prepare("SELECT status, version FROM payments WHERE id = ?").get(id);
    expect(row()).toEqual({ status: "pending", version: 1 });
    expect(db.prepare("SELECT count(*) FROM outbox WHERE payment_id = ?").pluck().get(id)).toBe(1);
    // Once the fault is gone, the same store carries on.
    db.exec("DROP TRIGGER refuse_events");
    expect((await links.cancel(scope, id))._unsafeUnwrap().changed).toBe(true);
    expect(row()).toEqual({ status: "canceled", version: 2 });
    db.close();
    store.close();
  });

  test("a write waiting for another connection's lock does not block the event loop", async () => {
    const { file, id } = await paylinkFileWithLink();
    const store = createSqliteStore({ filename: file }); // the default 5 s busy timeout
    const links = createPaymentLinks({ store });
    const db = rawDb(file);
    db.exec("BEGIN IMMEDIATE");
    const started = Date.now();
    const cancel = links.cancel(scope, id);
    // While the cancel waits for the lock, timers fire on time and reads answer.
    const ticks: number[] = [];
    const ticker = setInterval(() => ticks.push(Date.now()), 10);
    const read = await links.get(scope, id);
    expect(read._unsafeUnwrap().status).toBe("pending");
    expect(Date.now() - started).toBeLessThan(250);
    // The other connection commits from a timer: it can only run if the thread is free.
    await new Promise((resolve) => setTimeout(resolve, 300));
    db.exec("COMMIT");
    const result = await cancel;
    clearInterval(ticker);
    expect(result._unsafeUnwrap().changed).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(Math.max(...gaps), "the longest the event loop stalled while the write waited").toBeLessThan(100);
    db.close();
    store.close();
  });

  test("another connection holds the write lock past busyTimeoutMs: busy; reads go on; writes resume", async () => {
    const { file, id } = await paylinkFileWithLink();
    const store = createSqliteStore({ filename: file, busyTimeoutMs: 100 });
    const links = createPaymentLinks({ store });
    const db = rawDb(file);
    db.exec("BEGIN IMMEDIATE");
    const started = Date.now();
    expectUnavailable((await links.cancel(scope, id))._unsafeUnwrapErr(), "busy", /locked.*100 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    // WAL: a reader does not wait for the writer.
    expect((await links.get(scope, id))._unsafeUnwrap().status).toBe("pending");
    db.exec("COMMIT");
    expect((await links.cancel(scope, id))._unsafeUnwrap().changed).toBe(true);
    db.close();
    store.close();
  });

  test("a closed store: every command is store_unavailable, close is idempotent", async () => {
    const { file, id } = await paylinkFileWithLink();
    const store = createSqliteStore({ filename: file });
    expect((await createPaymentLinks({ store }).get(scope, id))._unsafeUnwrap().id).toBe(id);
    store.close();
    expect(() => store.close()).not.toThrow();
    await expectEveryCommandUnavailable(store, id, "closed", /the store is closed/);
    expect(() => store.migrate()).toThrow(/the store is closed/);
  });
});

describe("driver errors are translated", () => {
  // The store cannot be made to hit these for real here (tests run as root, on a roomy disk), so each is
  // produced for real on a raw connection and passed through the store's translation.
  const errorOf = (work: () => unknown): unknown => {
    try {
      work();
    } catch (error) {
      return error;
    }
    throw new Error("expected a failure");
  };

  test("a read-only database", async () => {
    const { file } = await paylinkFileWithLink();
    const db = rawDb(file, { readonly: true });
    const error = errorOf(() => db.exec("DELETE FROM payments"));
    db.close();
    expect((error as { code?: string }).code).toMatch(/^SQLITE_READONLY/);
    const translated = toStoreError(error, 5000);
    expect(translated.code).toBe("read_only");
    expect(translated.message).toMatch(/^SQLite store: the database is read-only/);
    expect(translated.cause).toBe(error);
  });

  test("a full disk", async () => {
    const { file } = await paylinkFileWithLink();
    const db = rawDb(file);
    db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true })}`);
    const error = errorOf(() =>
      db
        .prepare(
          "INSERT INTO outbox (event_id, payment_id, account_id, livemode, type, event) VALUES ('e', 'p', 'a', 0, 't', ?)",
        )
        .run("x".repeat(100_000)),
    );
    db.close();
    expect((error as { code?: string }).code).toBe("SQLITE_FULL");
    const translated = toStoreError(error, 5000);
    expect(translated.code).toBe("disk_full");
    expect(translated.message).toBe("SQLite store: the disk is full; nothing was written");
  });
});
