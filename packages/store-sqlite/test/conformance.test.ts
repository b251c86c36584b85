import { storeConformance } from "@paylink/testing";
import type Database from "better-sqlite3";
import { afterAll, test } from "vitest";
import { createSqliteStore, type SqliteStore } from "../src/index.js";
import { rawDb, rawProbe, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

// Each store gets its own file; the probe reads that file through a connection of its own.
const probes = new Map<SqliteStore, Database.Database>();

storeConformance(test, () => createSqliteStore({ filename: tmp.file() }), {
  name: "sqlite store",
  probe: (store) => {
    const db = rawDb(store.filename, { readonly: true });
    probes.set(store, db);
    return rawProbe(db);
  },
  teardown: (store) => {
    probes.get(store)?.close();
    probes.delete(store);
    store.close();
  },
});
