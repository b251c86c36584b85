import { readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

test("every exported declaration in packages/*/src carries TSDoc", () => {
  const missing: string[] = [];
  for (const pkg of readdirSync(`${root}packages`)) {
    let files: string[] = [];
    try {
      files = sources(`${root}packages/${pkg}/src`);
    } catch {
      continue;
    }
    for (const file of files) {
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, index) => {
        if (
          !/^export (declare )?(async )?(function|const|let|interface|type(?! \{)|class|enum|abstract class)\b/.test(
            line,
          )
        )
          return;
        let previous = index - 1;
        while (previous >= 0 && lines[previous]!.trim() === "") previous--;
        if (!lines[previous]?.trim().endsWith("*/"))
          missing.push(`${file.slice(root.length)}:${index + 1} ${line.slice(0, 80)}`);
      });
    }
  }
  expect(missing).toEqual([]);
});
