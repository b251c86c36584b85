/**
 * Failures: an unreachable server, missing tables, a statement failing inside a write, a connection
 * killed mid-command. Rejections must carry no driver text, writes must be all or nothing, and every
 * client must go back to the pool (or be destroyed when its connection may be broken).
 */
import {
  createPaymentLinks,
  type DomainEvent,
  type PaylinkError,
  type Payment,
  type Scope,
  type StoreUnavailable,
} from "@paylink/core";
import { sampleLinkInput, samplePayment } from "@paylink/testing";
import pg from "pg";
import { afterAll, describe, expect, onTestFinished, test } from "vitest";
import {
  createPostgresStore,
  type PostgresClient,
  type PostgresPool,
  PostgresStoreError,
  type PostgresStoreErrorCode,
} from "../src/index.js";
import { freshStore, openBackend, rawProbe, serverOnly } from "./support.js";

const backend = await openBackend();
afterAll(() => backend.close());

const scope: Scope = { accountId: "acct_conformance", livemode: false };
const input = sampleLinkInput(new Date(), { expiresAt: new Date(Date.now() + 86_400_000) });
// Text a driver or server error would carry: addresses, socket codes, SQL words, relation names.
const DRIVER_TEXT =
  /ECONN|127\.0\.0\.1|:1\b|connect |relation|does not exist|paylink_|syntax|duplicate|violates|terminat/i;

let eventCounter = 0;
const eventOf = (payment: Payment, id = `evt_faults_${process.pid}_${++eventCounter}`): DomainEvent => ({
  id,
  type: "payment_link.created",
  paymentId: payment.id,
  accountId: scope.accountId,
  livemode: scope.livemode,
  occurredAt: payment.createdAt,
  previousStatus: null,
  payment,
});

/** The store error behind a `store_unavailable`, checked to carry no driver text anywhere visible. */
function unavailable(error: PaylinkError, code: PostgresStoreErrorCode): PostgresStoreError {
  expect(error.code).toBe("store_unavailable");
  expect(error.message).not.toMatch(DRIVER_TEXT);
  const cause = (error as StoreUnavailable).cause;
  expect(cause).toBeInstanceOf(PostgresStoreError);
  const storeError = cause as PostgresStoreError;
  expect(storeError.code).toBe(code);
  expect(storeError.message).not.toMatch(DRIVER_TEXT);
  expect(String(storeError)).not.toMatch(DRIVER_TEXT);
  expect(storeError.cause, "the driver's error is kept as cause").toBeInstanceOf(Error);
  return storeError;
}

test("a pool pointed at a closed port: every command answers store_unavailable without driver text", async () => {
  const pool = new pg.Pool({
    host: "127.0.0.1",
    port: 1,
    user: "postgres",
    database: "test",
    connectionTimeoutMillis: 2000,
    max: 2,
  });
  pool.on("error", () => {});
  try {
    const store = createPostgresStore({ pool });
    const links = createPaymentLinks({ store });
    const created = await links.create(scope, input);
    const error = unavailable(created._unsafeUnwrapErr(), "connection");
    expect(error.message).toBe("PostgreSQL store: connection failed");
    // The driver's own words stay available to logs, as the cause (refused here, or a connect timeout).
    expect(String(error.cause)).toMatch(/ECONNREFUSED|timeout/);
    for (const result of [
      await links.get(scope, "pay_1"),
      await links.cancel(scope, "pay_1"),
      await links.expireDue(),
      await links.list(scope),
      await links.events(),
    ]) {
      unavailable(result._unsafeUnwrapErr(), "connection");
    }
    await expect(store.migrate()).rejects.toThrow(/^PostgreSQL store: connection failed$/);
    await expect(
      store.claimIdempotencyKey(
        scope,
        {
          key: "k",
          fingerprint: "f",
          response: null,
          createdAt: "2030-01-01T00:00:00.000Z",
          token: "t",
          lockedUntil: "2030-01-01T00:00:10.000Z",
        },
        "2000-01-01T00:00:00.000Z",
      ),
    ).rejects.toBeInstanceOf(PostgresStoreError);
  } finally {
    await pool.end();
  }
});

test("a schema that was never migrated: store_unavailable saying the tables are missing", async () => {
  const pool = await backend.pool(2);
  for (const create of [false, true]) {
    const schema = backend.schemaName();
    if (create) await pool.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    const links = createPaymentLinks({ store: createPostgresStore({ pool, schema }) });
    const error = unavailable((await links.create(scope, input))._unsafeUnwrapErr(), "schema");
    expect(error.message).toBe("PostgreSQL store: tables missing, run migrate()");
    unavailable((await links.get(scope, "pay_1"))._unsafeUnwrapErr(), "schema");
    unavailable((await links.events())._unsafeUnwrapErr(), "schema");
    if (create) await backend.dropSchema(schema);
  }
});

test("a statement failing inside a write rolls the whole write back and returns the client", async () => {
  const pool = await backend.pool(4);
  const { store, schema } = await freshStore(backend, pool);
  const probe = rawProbe(pool, schema);
  const a = samplePayment();
  const created = eventOf(a);
  expect(await store.insert(scope, { payment: a, version: 1 }, [created])).toBe(true);

  // The second event reuses an event id: the outbox insert fails after the UPDATE matched.
  const canceled = { ...a, status: "canceled" as const };
  const swap = store.compareAndSwap(scope, { payment: canceled, version: 2 }, 1, [
    eventOf(canceled),
    eventOf(canceled, created.id),
  ]);
  await expect(swap).rejects.toThrow(/^PostgreSQL store: query failed$/);
  expect(await probe.raw(scope, a.id)).toEqual({ payment: a, version: 1 });
  expect(await probe.events(scope, a.id)).toEqual([created]);

  // An insert whose event fails writes no payment either.
  const b = samplePayment();
  await expect(store.insert(scope, { payment: b, version: 1 }, [eventOf(b, created.id)])).rejects.toThrow(
    PostgresStoreError,
  );
  expect(await probe.raw(scope, b.id)).toBeUndefined();

  expect(pool.waitingCount).toBe(0);
  expect(pool.idleCount, "every client went back to the pool").toBe(pool.totalCount);
  // And the store carries on.
  expect(await store.compareAndSwap(scope, { payment: canceled, version: 2 }, 1, [eventOf(canceled)])).toBe(
    true,
  );
  await backend.dropSchema(schema);
});

test("text PostgreSQL cannot hold (U+0000): lookups answer not_found, core refuses it, the store rejects it clearly", async () => {
  const pool = await backend.pool(2);
  const { store, schema } = await freshStore(backend, pool);
  const links = createPaymentLinks({ store });
  expect((await links.get(scope, "pay_\u0000"))._unsafeUnwrapErr().code).toBe("not_found");
  // An account id is stored text too: core refuses it before the store sees it.
  expect(
    (await links.cancel({ accountId: "acct_\u0000", livemode: false }, "pay_1"))._unsafeUnwrapErr().code,
  ).toBe("invalid_request");
  expect(await store.list(scope, { limit: 10, startingAfter: "pay_\u0000" })).toEqual([]);
  // Core refuses such text at the edge; the store keeps its own guard for direct callers.
  const refused = await links.create(scope, { ...input, description: "nul \u0000 byte" });
  expect(refused._unsafeUnwrapErr().code).toBe("invalid_request");
  const created = (await links.create(scope, input))._unsafeUnwrap();
  const poisoned = { ...created, id: `${created.id}_nul`, description: "nul \u0000 byte" };
  await expect(store.insert(scope, { payment: poisoned, version: 1 }, [])).rejects.toThrow(
    "PostgreSQL store: text containing U+0000 cannot be stored",
  );
  await backend.dropSchema(schema);
});

test.skipIf(backend.kind !== "server")(
  `a connection killed in the middle of a compare-and-swap: store_unavailable, the client is destroyed, the next command works${serverOnly(backend)}`,
  async () => {
    const application = `paylink_faults_${process.pid}`;
    const pool = await backend.pool(2, { application_name: application });
    const admin = await backend.pool(2);
    onTestFinished(() => backend.end(pool, admin));
    const { store, schema } = await freshStore(backend, pool);
    const links = createPaymentLinks({ store });
    const link = (await links.create(scope, input))._unsafeUnwrap();

    // Hold the row so the store's UPDATE waits, then terminate the waiting backend.
    const holder = await admin.connect();
    await holder.query("BEGIN");
    await holder.query(
      `SELECT 1 FROM ${pg.escapeIdentifier(schema)}.paylink_payments WHERE id = $1 FOR UPDATE`,
      [link.id],
    );
    const cancel = links.cancel(scope, link.id);
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      const { rows } = await admin.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [application],
      );
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(pid, "the store's UPDATE is waiting for the row lock").toBeDefined();
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
    unavailable((await cancel)._unsafeUnwrapErr(), "connection");
    await holder.query("ROLLBACK");
    holder.release();

    expect(pool.totalCount, "the broken client was destroyed, not pooled").toBe(pool.idleCount);
    const retried = (await links.cancel(scope, link.id))._unsafeUnwrap();
    expect(retried.changed).toBe(true);
    expect((await rawProbe(admin, schema).events(scope, link.id)).map((e) => e.type)).toEqual([
      "payment_link.created",
      "payment_link.canceled",
    ]);
    await backend.dropSchema(schema);
  },
  30_000,
);

describe("client handling, on a scripted pool (no database)", () => {
  /**
   * A pool whose one client logs each statement's first word (and `connect` when checked out), and
   * fails a statement when `fail(word, nth)` returns an error (`nth`: earlier statements with that word).
   */
  function scripted(fail: (word: string, nth: number) => Error | undefined = () => undefined, rowCount = 1) {
    const log: string[] = [];
    const client: PostgresClient = {
      async query(textOrConfig) {
        const text = typeof textOrConfig === "string" ? textOrConfig : textOrConfig.text;
        const word = text.trim().split(/\s/)[0]!;
        const nth = log.filter((entry) => entry === word).length;
        log.push(word);
        const error = fail(word, nth);
        if (error !== undefined) throw error;
        return { rows: [], rowCount };
      },
      release(destroy) {
        log.push(`release(${destroy})`);
      },
    };
    const pool: PostgresPool = {
      connect: async () => {
        log.push("connect");
        return client;
      },
      query: (text, values) => client.query(text, values),
    };
    return { log, store: createPostgresStore({ pool, schema: "scripted" }) };
  }
  const payment = samplePayment();
  const swap = (store: ReturnType<typeof scripted>["store"]) =>
    store.compareAndSwap(scope, { payment, version: 2 }, 1, [eventOf(payment)]);
  const driverError = (message: string, code: string) => Object.assign(new Error(message), { code });
  const serializationFailure = () =>
    driverError("could not serialize access due to concurrent update", "40001");
  // The first write statement fails as it would under a stricter default isolation; the rest succeed.
  const firstWriteSerializes = (word: string, nth: number) =>
    word === "WITH" && nth === 0 ? serializationFailure() : undefined;

  test("success: one statement on the pool (one round trip), no client checked out", async () => {
    const { log, store } = scripted();
    expect(await swap(store)).toBe(true);
    expect(log).toEqual(["WITH"]);
    expect(await store.insert(scope, { payment, version: 1 }, [eventOf(payment)])).toBe(true);
    expect(log).toEqual(["WITH", "WITH"]);
  });

  test("a stale version: the statement answers no row, the swap answers false, nothing else is sent", async () => {
    const { log, store } = scripted(undefined, 0);
    expect(await swap(store)).toBe(false);
    expect(await store.insert(scope, { payment, version: 1 }, [eventOf(payment)])).toBe(false);
    expect(log).toEqual(["WITH", "WITH"]);
  });

  test("a statement error: rejection without driver text, no retry", async () => {
    const { log, store } = scripted((word) =>
      word === "WITH" ? driverError('duplicate key "paylink_outbox"', "23505") : undefined,
    );
    const rejection = await swap(store).catch((error: unknown) => error);
    expect(rejection).toBeInstanceOf(PostgresStoreError);
    expect((rejection as Error).message).toBe("PostgreSQL store: query failed");
    expect(log).toEqual(["WITH"]);
  });

  test("a serialization failure (a session defaulting to REPEATABLE READ or SERIALIZABLE): the write runs again in a READ COMMITTED transaction", async () => {
    const { log, store } = scripted(firstWriteSerializes);
    expect(await swap(store)).toBe(true);
    expect(log).toEqual(["WITH", "connect", "BEGIN", "WITH", "COMMIT", "release(false)"]);

    const stale = scripted(firstWriteSerializes, 0);
    expect(await swap(stale.store)).toBe(false);
    expect(stale.log).toEqual(["WITH", "connect", "BEGIN", "WITH", "ROLLBACK", "release(false)"]);
  });

  test("a serialization failure, then a connection error at COMMIT: no ROLLBACK attempted, the client is destroyed", async () => {
    const { log, store } = scripted(
      (word, nth) =>
        firstWriteSerializes(word, nth) ??
        (word === "COMMIT" ? driverError("read ECONNRESET", "ECONNRESET") : undefined),
    );
    await expect(swap(store)).rejects.toThrow(/^PostgreSQL store: connection failed$/);
    expect(log).toEqual(["WITH", "connect", "BEGIN", "WITH", "COMMIT", "release(true)"]);
  });

  test("a serialization failure, then a failing ROLLBACK: the client is destroyed", async () => {
    const { log, store } = scripted(
      (word, nth) => firstWriteSerializes(word, nth) ?? (word === "ROLLBACK" ? new Error("boom") : undefined),
      0,
    );
    await expect(swap(store)).rejects.toBeInstanceOf(PostgresStoreError);
    expect(log).toEqual(["WITH", "connect", "BEGIN", "WITH", "ROLLBACK", "ROLLBACK", "release(true)"]);
  });

  test("migrate takes the advisory lock first, inside its transaction", async () => {
    const { log, store } = scripted();
    await store.migrate();
    expect(log.slice(0, 3)).toEqual(["connect", "BEGIN", "SELECT"]);
    expect(log.at(-2)).toBe("COMMIT");
    expect(log.at(-1)).toBe("release(false)");
  });
});
