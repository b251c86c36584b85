import { defineConfig } from "tsup";
import { base } from "../../tsup.base";

// A second entry for `@paylink/testing/setup`, which vitest loads on its own (see src/setup.ts).
export default defineConfig({ ...base, entry: { index: "src/index.ts", setup: "src/setup.ts" } });
