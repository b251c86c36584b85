import { storeConformance } from "@paylink/testing";
import { test } from "vitest";
import { createMemoryStore } from "../src/index.js";

storeConformance(test, () => createMemoryStore(), { name: "memory store" });
