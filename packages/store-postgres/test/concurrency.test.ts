/**
 * Many connections at once: what PGlite (one connection) cannot show, so every test here needs the
 * server and says so in its name when skipped.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  createPaymentLinks,
  type DomainEvent,
  decide,
  type LifecycleEventType,
  type PaylinkError,
  type Payment,
  type PaymentLinks,
  type Scope,
} from "@paylink/core";
import { samplePayment } from "@paylink/testing";
import pg from "pg";
import { afterAll, expect, onTestFinished, test } from "vitest";
import { createPostgresStore } from "../src/index.js";
import { MIGRATIONS } from "../src/migrations.js";
import { LOCK_NAMESPACE, lockKey } from "../src/sql.js";
import { allEvents, type Backend, freshStore, openBackend, rawProbe, serverOnly } from "./support.js";

const backend: Backend = await openBackend({ lazy: true });
const onServer = backend.kind === "server";
const suffix = serverOnly(backend);
afterAll(() => backend.close());

const scope: Scope = { accountId: "acct_concurrency", livemode: false };
const root = fileURLToPath(new URL("../../..", import.meta.url));

const newLink = async (links: PaymentLinks, s: Scope = scope) =>
  (
    await links.create(s, {
      customerId: "cus_1",
      provider: "stripe",
      amountSubtotal: 1000,
      currency: "GBP",
      expiresAt: new Date(Date.now() + 86_400_000),
    })
  )._unsafeUnwrap();

// Which command a stored event was caused by (the racers below send only these three).
const COMMAND_OF: Record<string, LifecycleEventType> = {
  "payment_link.canceled": "CANCEL",
  "payment_link.payment_started": "START_PAYMENT",
  "payment_link.paid": "PAYMENT_SUCCEEDED",
  "payment_link.late_payment": "PAYMENT_SUCCEEDED",
};

/**
 * The outbox of one link is a legal history: created first, then each event exactly what the machine
 * decides for its command in the status the previous event left, ending in the stored state.
 */
function assertLegalHistory(events: readonly DomainEvent[], stored: { payment: Payment; version: number }) {
  assert.equal(events[0]?.type, "payment_link.created");
  let status = events[0]!.payment.status;
  for (const event of events.slice(1)) {
    assert.equal(event.previousStatus, status, `${event.type} follows ${status}`);
    const command = COMMAND_OF[event.type];
    assert.ok(command, `unexpected event ${event.type}`);
    const decision = decide("link", status, command, false)!;
    assert.deepEqual(
      decision.emits.map((name) => `payment_link.${name}`),
      [event.type],
    );
    assert.equal(event.payment.status, decision.status);
    status = decision.status;
  }
  assert.deepEqual(stored.payment, events.at(-1)!.payment, "the stored payment is the last event's");
  // Every write here carries exactly one event, and the version counts writes.
  assert.equal(stored.version, events.length);
}

type Outcome = { ok: true; payment: Payment; changed?: boolean } | { ok: false; error: PaylinkError };

test.skipIf(!onServer)(
  `16 pooled connections: racing cancel, startPayment and paymentSucceeded leave each link consistent${suffix}`,
  async () => {
    const pool = await backend.pool(16);
    const probePool = await backend.pool(2);
    onTestFinished(() => backend.end(pool, probePool));
    const { store, schema } = await freshStore(backend, pool);
    const links = createPaymentLinks({ store, maxRetries: 100 });
    const ids = await Promise.all(Array.from({ length: 40 }, async () => (await newLink(links)).id));

    const commands = ids.flatMap((id) =>
      (["cancel", "startPayment", "paymentSucceeded"] as const).flatMap((command) =>
        Array.from({ length: 3 }, () => ({ id, command })),
      ),
    );
    commands.sort(() => Math.random() - 0.5);
    const results = await Promise.all(
      commands.map(async ({ id, command }): Promise<Outcome & { id: string; command: string }> => {
        if (command === "cancel") {
          const r = await links.cancel(scope, id);
          return r.isOk()
            ? { id, command, ok: true, payment: r.value.payment, changed: r.value.changed }
            : { id, command, ok: false, error: r.error };
        }
        const r = await links[command](scope, id);
        return r.isOk()
          ? { id, command, ok: true, payment: r.value }
          : { id, command, ok: false, error: r.error };
      }),
    );

    for (const r of results) {
      if (!r.ok)
        assert.ok(["payment_not_cancelable", "link_not_payable"].includes(r.error.code), r.error.code);
    }
    const probe = rawProbe(probePool, schema);
    for (const id of ids) {
      const mine = results.filter((r) => r.id === id);
      const events = await probe.events(scope, id);
      const stored = (await probe.raw(scope, id))!;
      assertLegalHistory(events, stored);
      const count = (type: string) => events.filter((e) => e.type === `payment_link.${type}`).length;
      // The winners, read off the answers, are exactly the events in the outbox.
      const cancelWins = mine.filter((r) => r.command === "cancel" && r.ok && r.changed).length;
      const startWins = mine.filter((r) => r.command === "startPayment" && r.ok).length;
      const latePayments = mine.filter(
        (r) => r.command === "paymentSucceeded" && r.ok && r.payment.status === "canceled",
      ).length;
      assert.equal(count("canceled"), cancelWins);
      assert.ok(cancelWins <= 1, "at most one cancel changes a link");
      assert.equal(count("payment_started"), startWins);
      assert.ok(startWins <= 1);
      assert.equal(count("late_payment"), latePayments);
      assert.equal(count("paid"), stored.payment.status === "paid" ? 1 : 0);
      assert.ok(cancelWins + startWins + count("paid") >= 1, "some command moved the pending link");
    }
    const outbox = await allEvents(probePool, schema);
    const eventIds = outbox.map((row) => row.event.id);
    expect(new Set(eventIds).size, "no event is written twice").toBe(eventIds.length);
    await backend.dropSchema(schema);
  },
  120_000,
);

/** Runs the fixture in a child Node process (tsx, from the repo root, on the workspace's sources). */
function hammer(role: "cancel" | "start", schema: string) {
  const child = spawn(
    `${root}node_modules/.bin/tsx`,
    [
      "--tsconfig",
      `${root}tsconfig.json`,
      fileURLToPath(new URL("fixtures/hammer.ts", import.meta.url)),
      role,
      schema,
    ],
    { cwd: root, env: process.env, stdio: ["pipe", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => (stdout.includes("ready\n") ? resolve() : undefined);
    child.stdout.on("data", check);
    child.once("exit", (code) => reject(new Error(`${role} exited early (${code}): ${stderr}`)));
  });
  const done = new Promise<{ id: string; ok: boolean; changed?: boolean; code?: string }[]>(
    (resolve, reject) => {
      child.once("exit", (code) => {
        if (code !== 0) return reject(new Error(`${role} failed (${code}): ${stderr}`));
        resolve(JSON.parse(stdout.split("\n")[1]!));
      });
    },
  );
  // Either may never be awaited when the other fails first; the test still fails on the first.
  ready.catch(() => {});
  done.catch(() => {});
  return { child, ready, done };
}

test.skipIf(!onServer)(
  `two processes, each with its own Pool: one cancels, one starts payments on the same 200 links — one winner each${suffix}`,
  async () => {
    const pool = await backend.pool(8);
    onTestFinished(() => backend.end(pool));
    const { store, schema } = await freshStore(backend, pool);
    const hammerScope = { accountId: "acct_hammer", livemode: false };
    const links = createPaymentLinks({ store });
    const ids = await Promise.all(
      Array.from({ length: 200 }, async () => (await newLink(links, hammerScope)).id),
    );

    const cancel = hammer("cancel", schema);
    const start = hammer("start", schema);
    onTestFinished(() => {
      for (const { child } of [cancel, start]) if (child.exitCode === null) child.kill();
    });
    await Promise.all([cancel.ready, start.ready]);
    const line = `${JSON.stringify(ids)}\n`;
    cancel.child.stdin.end(line);
    start.child.stdin.end(line);
    const [cancels, starts] = await Promise.all([cancel.done, start.done]);

    const probe = rawProbe(pool, schema);
    let canceled = 0;
    for (const id of ids) {
      const c = cancels.find((r) => r.id === id)!;
      const s = starts.find((r) => r.id === id)!;
      const cancelWon = c.ok && c.changed === true;
      const startWon = s.ok;
      assert.ok(cancelWon !== startWon, `exactly one winner for ${id}`);
      if (cancelWon) assert.equal(s.code, "link_not_payable");
      else assert.equal(c.code, "payment_not_cancelable");
      const stored = (await probe.raw(hammerScope, id))!;
      const events = await probe.events(hammerScope, id);
      assert.equal(stored.payment.status, cancelWon ? "canceled" : "processing");
      assert.deepEqual(
        events.map((e) => e.type),
        ["payment_link.created", cancelWon ? "payment_link.canceled" : "payment_link.payment_started"],
      );
      assert.equal(stored.version, 2);
      if (cancelWon) canceled++;
    }
    // Not an assertion of fairness, just a report that both sides won some races.
    console.log(`two processes: ${canceled} links canceled, ${ids.length - canceled} payments started`);
    await backend.dropSchema(schema);
  },
  120_000,
);

test.skipIf(!onServer)(
  `migrate: four instances on two pools migrate one schema at once — all succeed, one set of tables${suffix}`,
  async () => {
    const pools = [await backend.pool(2), await backend.pool(2)];
    onTestFinished(() => backend.end(...pools));
    const schema = backend.schemaName();
    const stores = [0, 1, 0, 1].map((i) => createPostgresStore({ pool: pools[i]!, schema }));
    await Promise.all(stores.map((store) => store.migrate()));
    await Promise.all(stores.map((store) => store.migrate())); // and again: nothing to do

    const tables = await pools[0]!.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
      [schema],
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual([
      "paylink_idempotency_keys",
      "paylink_migrations",
      "paylink_outbox",
      "paylink_payments",
      "paylink_sink_cursors",
      "paylink_webhook_deliveries",
      "paylink_webhook_endpoints",
    ]);
    const applied = await pools[0]!.query(
      `SELECT version FROM "${schema}".paylink_migrations ORDER BY version`,
    );
    expect(applied.rows.map((row) => row.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await backend.dropSchema(schema);
  },
  60_000,
);

test.skipIf(!onServer)(
  `outbox: a reader paging readEvents(after, 5) during 16 concurrent writers gets every committed event exactly once${suffix}`,
  async () => {
    const writerPool = await backend.pool(16);
    const readerPool = await backend.pool(2);
    onTestFinished(() => backend.end(writerPool, readerPool));
    const { schema } = await freshStore(backend, writerPool);
    const writer = createPostgresStore({ pool: writerPool, schema });
    const reader = createPostgresStore({ pool: readerPool, schema });
    const links = createPaymentLinks({ store: writer, maxRetries: 50 });

    let writing = true;
    const writers = Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = 0; i < 25; i++) {
          const link = await newLink(links);
          (await links.cancel(scope, link.id))._unsafeUnwrap();
        }
      }),
    ).finally(() => {
      writing = false;
    });

    const seen: { sequence: number; id: string }[] = [];
    let after = 0;
    const readPage = async () => {
      const page = await reader.readEvents(after, 5);
      for (const stored of page) seen.push({ sequence: stored.sequence, id: stored.event.id });
      if (page.length > 0) after = page.at(-1)!.sequence;
      return page.length;
    };
    while (writing) await readPage();
    await writers;
    while ((await readPage()) > 0) {}

    const committed = await allEvents(readerPool, schema);
    expect(committed.length).toBe(16 * 25 * 2);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.sequence > seen[i - 1]!.sequence);
    // Exactly the committed events, each once, in sequence order: no event was skipped by the reader.
    expect(seen.map((s) => s.id)).toEqual(committed.map((row) => row.event.id));
    await backend.dropSchema(schema);
  },
  120_000,
);

let eventCounter = 0;
const eventOf = (payment: Payment, prefix = "evt"): DomainEvent => ({
  id: `${prefix}_${process.pid}_${++eventCounter}`,
  type: "payment_link.viewed",
  paymentId: payment.id,
  accountId: scope.accountId,
  livemode: scope.livemode,
  occurredAt: payment.createdAt,
  previousStatus: "pending",
  payment,
});

/** Polls `check` every 10 ms until it is true; fails after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How many backends of `application` wait on an advisory lock. */
async function waitingOnAdvisory(admin: pg.Pool, application: string): Promise<number> {
  const { rows } = await admin.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'advisory'",
    [application],
  );
  return rows[0].n;
}

/** Settles to whether `promise` has settled yet, without waiting for it. */
const settled = (promise: Promise<unknown>) =>
  Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setImmediate(() => resolve(false))),
  ]);

// Held by the test; the gate trigger below makes a writer wait for it after drawing its sequences.
const GATE = [0x54455354, 1] as const; // "TEST"

test.skipIf(!onServer)(
  `outbox: a write stalled between drawing its sequence and COMMIT holds back no other write, and a reader waits for it instead of paging past it${suffix}`,
  async () => {
    const application = `paylink_gate_${process.pid}`;
    const readerApplication = `paylink_gate_reader_${process.pid}`;
    const pool = await backend.pool(4, { application_name: application });
    const admin = await backend.pool(3);
    const readerPool = await backend.pool(1, { application_name: readerApplication });
    onTestFinished(() => backend.end(pool, admin, readerPool));
    const { store, schema } = await freshStore(backend, pool);
    const s = pg.escapeIdentifier(schema);
    // Test-only: a BEFORE INSERT row trigger runs after the row's sequence was drawn and before COMMIT;
    // for gated events it waits for the test's lock, so the statement stalls in exactly that window.
    await admin.query(`CREATE FUNCTION ${s}.gate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.event_id LIKE 'gated_%' THEN PERFORM pg_advisory_xact_lock_shared(${GATE[0]}, ${GATE[1]}); END IF;
        RETURN NEW;
      END $$`);
    await admin.query(
      `CREATE TRIGGER gate BEFORE INSERT ON ${s}.paylink_outbox FOR EACH ROW EXECUTE FUNCTION ${s}.gate()`,
    );
    const reader = createPostgresStore({ pool: readerPool, schema });

    const insertOne = async (prefix = "evt") => {
      const payment = samplePayment();
      const event = eventOf(payment, prefix);
      return { payment, event, written: store.insert(scope, { payment, version: 1 }, [event]) };
    };
    const swapOne = async (payment: Payment, prefix = "evt") => {
      const next = { ...payment, status: "viewed" as const };
      const event = eventOf(next, prefix);
      return { event, written: store.compareAndSwap(scope, { payment: next, version: 2 }, 1, [event]) };
    };
    const seen: string[] = [];
    let after = 0;
    const page = async () => {
      const events = await reader.readEvents(after, 1000);
      for (const stored of events) seen.push(stored.event.id);
      if (events.length > 0) after = events.at(-1)!.sequence;
    };

    // Both statements, in both roles: the stalled one and the later one.
    for (const [stalledKind, laterKind] of [
      ["compareAndSwap", "insert"],
      ["insert", "compareAndSwap"],
    ] as const) {
      const existing = await insertOne();
      const existing2 = await insertOne();
      expect(await existing.written).toBe(true);
      expect(await existing2.written).toBe(true);
      const gate = await admin.connect();
      await gate.query("SELECT pg_advisory_lock($1, $2)", [...GATE]);
      let gateHeld = true;
      try {
        const stalled =
          stalledKind === "insert" ? await insertOne("gated") : await swapOne(existing.payment, "gated");
        await until(
          "the first write stalls in the gate",
          async () => (await waitingOnAdvisory(admin, application)) === 1,
        );
        // Writers share the outbox lock: the later write commits while the stalled one is in flight.
        const later = laterKind === "insert" ? await insertOne() : await swapOne(existing2.payment);
        expect(
          await Promise.race([
            later.written,
            new Promise((resolve) => setTimeout(() => resolve("waited"), 5000)),
          ]),
          `the later ${laterKind} commits without waiting for the stalled ${stalledKind}`,
        ).toBe(true);

        // A publisher pages now, while the stalled write has drawn a sequence but not committed: it
        // waits for that write to end rather than reading the later event past the stalled one's gap.
        const reading = page();
        await until(
          "the reader waits for the stalled write",
          async () => (await waitingOnAdvisory(admin, readerApplication)) === 1,
        );
        expect(await settled(reading), "the reader has not read past the stalled write").toBe(false);
        expect(seen).not.toContain(later.event.id);

        await gate.query("SELECT pg_advisory_unlock($1, $2)", [...GATE]);
        gateHeld = false;
        expect(await stalled.written).toBe(true);
        await reading;
        const committed = (await allEvents(admin, schema)).map((row) => row.event.id);
        expect(seen, "the publisher got every committed event, each once").toEqual(committed);
        // The stalled write drew its sequence first, so its event comes first.
        expect(committed.slice(-2)).toEqual([stalled.event.id, later.event.id]);
      } finally {
        if (gateHeld) await gate.query("SELECT pg_advisory_unlock($1, $2)", [...GATE]).catch(() => {});
        gate.release();
      }
    }
    await backend.dropSchema(schema);
  },
  60_000,
);

test.skipIf(!onServer)(
  `outbox: a write that does not happen never takes the outbox lock (stale version, existing id)${suffix}`,
  async () => {
    const pool = await backend.pool(2);
    const admin = await backend.pool(1);
    onTestFinished(() => backend.end(pool, admin));
    const { store, schema } = await freshStore(backend, pool);
    const payment = samplePayment();
    expect(await store.insert(scope, { payment, version: 1 }, [eventOf(payment)])).toBe(true);

    const holder = await admin.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_NAMESPACE.outbox, lockKey(schema)]);
      // Both would wait for the holder's COMMIT if they asked for the lock; they answer at once instead.
      const next = { ...payment, status: "viewed" as const };
      const quick = (write: Promise<unknown>) =>
        Promise.race([write, new Promise((resolve) => setTimeout(() => resolve("waited"), 2000))]);
      expect(
        await quick(store.compareAndSwap(scope, { payment: next, version: 3 }, 2, [eventOf(next)])),
      ).toBe(false);
      expect(await quick(store.insert(scope, { payment, version: 1 }, [eventOf(payment)]))).toBe(false);
    } finally {
      await holder.query("ROLLBACK");
      holder.release();
    }
    await backend.dropSchema(schema);
  },
  30_000,
);

test.skipIf(!onServer)(
  `sessions defaulting to REPEATABLE READ or SERIALIZABLE: 16 racing swaps and 16 racing inserts, one winner each, no error${suffix}`,
  async () => {
    for (const level of ["repeatable read", "serializable"]) {
      const pool = await backend.pool(16, {
        onConnect: async (client) => {
          await client.query(`SET default_transaction_isolation TO '${level}'`);
        },
      });
      onTestFinished(() => backend.end(pool));
      const { store, schema } = await freshStore(backend, pool);
      const probe = rawProbe(pool, schema);
      const { rows } = await pool.query("SHOW transaction_isolation");
      expect(rows[0].transaction_isolation).toBe(level);

      for (let round = 0; round < 3; round++) {
        const payment = samplePayment();
        const inserts = await Promise.all(
          Array.from({ length: 16 }, () => store.insert(scope, { payment, version: 1 }, [eventOf(payment)])),
        );
        expect(inserts.filter(Boolean).length, `${level}: one insert wins`).toBe(1);
        const swaps = await Promise.all(
          Array.from({ length: 16 }, (_, i) => {
            const next = { ...payment, status: "viewed" as const, description: `writer ${i}` };
            return store.compareAndSwap(scope, { payment: next, version: 2 }, 1, [eventOf(next)]);
          }),
        );
        expect(swaps.filter(Boolean).length, `${level}: one swap wins`).toBe(1);
        expect((await probe.raw(scope, payment.id))?.payment.description).toBe(
          `writer ${swaps.indexOf(true)}`,
        );
        expect((await probe.events(scope, payment.id)).length).toBe(2);
      }
      await backend.dropSchema(schema);
    }
  },
  60_000,
);
