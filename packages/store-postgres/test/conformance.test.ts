import { storeConformance } from "@paylink/testing";
import { afterAll, test } from "vitest";
import type { PostgresStore } from "../src/index.js";
import { freshStore, openBackend, rawProbe } from "./support.js";

// Against the server when PAYLINK_PG_URL answers, else PGlite; each store gets a schema of its own, so
// every conformance test starts from empty tables, like a fresh memory store.
const backend = await openBackend();
const pool = await backend.pool(16);
// The probe reads through a pool of its own, never through the adapter.
const probePool = await backend.pool(4);
const schemas = new WeakMap<PostgresStore, string>();
afterAll(() => backend.close());

storeConformance(
  test,
  async () => {
    const { store, schema } = await freshStore(backend, pool);
    schemas.set(store, schema);
    return store;
  },
  {
    name: "postgres store",
    probe: (store) => rawProbe(probePool, schemas.get(store)!),
    teardown: (store) => backend.dropSchema(schemas.get(store)!),
    concurrency: 16,
    timeout: 120_000,
  },
);
