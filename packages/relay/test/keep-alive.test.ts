import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const fixture = fileURLToPath(new URL("./fixtures/lone-relay.ts", import.meta.url));

it("a process that runs only a started relay stays alive until stop(), then exits by itself", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await expect.poll(() => out, { timeout: 20_000 }).toContain("started");
  // Several polls later, with its only sink failing, it is still running.
  const early = await Promise.race([
    exited,
    new Promise((resolve) => setTimeout(() => resolve("alive"), 1_500)),
  ]);
  expect(early).toBe("alive");
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(out).toContain("stopped");
}, 30_000);
