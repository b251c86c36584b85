import { deliveryStoreConformance } from "@paylink/testing";
import { test } from "vitest";
import { createMemoryStore } from "../src/index.js";

deliveryStoreConformance(test, () => createMemoryStore(), { name: "memory store" });
