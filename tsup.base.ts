import type { Options } from "tsup";

/** The build every package spreads into its own `tsup.config.ts`: ESM + CJS + types. */
export const base: Options = {
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  treeshake: true,
  splitting: false,
};
