import { ERROR_CODES, toDot, toMarkdownTable, toMermaid, toStatelySource } from "@paylink/core";
import { HTTP_ERRORS } from "@paylink/http";
import { instance } from "@viz-js/viz";

const HEADER = "<!-- Generated from the machine by `pnpm docs:generate`. Do not edit: CI fails on drift. -->";

/** The lifecycle page: the Mermaid diagram and the status × event table, both from the machine. */
export function lifecycleMarkdown(): string {
  return `${HEADER}

# The payment lifecycle

Generated from \`lifecycleMachine\` in \`packages/core/src/machine.ts\`, the only place the rules live.
Every command first applies a due expiry (a link whose \`expiresAt\` has passed reads as \`expired\`), then
sends its event.

![The lifecycle, rendered from the machine](lifecycle.svg)

\`\`\`mermaid
${toMermaid().trimEnd()}
\`\`\`

## What each event does in each status

"no-op" means the command succeeds and nothing is written: no new timestamp, no event. "✗" is a refusal
with that error code; nothing is written. "records" writes an event and leaves the payment as it is.
Below each status × event table, every transition of that kind with the domain events it writes to the
outbox, in order, atomically with the new state (\`reachPayment\` in \`@paylink/testing\` returns them for
your own property tests). \`create\` writes \`payment_link.created\` (\`charge.created\`). When a command
finds a link whose expiry has come, its one write holds the \`EXPIRE\` row's events first, then the
command's own on the expired link: a payment succeeding on a due pending link writes
\`payment_link.expired\`, then \`payment_link.late_payment\`.

| command | event |
|---|---|
| \`view\` | \`VIEW\` |
| \`startPayment\` | \`START_PAYMENT\` |
| \`paymentFailed\` | \`PAYMENT_FAILED\` |
| \`paymentSucceeded\` | \`PAYMENT_SUCCEEDED\` |
| \`cancel\` | \`CANCEL\` |
| \`expireDue\`, and every command first | \`EXPIRE\` |

${toMarkdownTable().trimEnd()}
`;
}

/**
 * The error reference, from the two registries (core's `ERROR_CODES`, `@paylink/http`'s `HTTP_ERRORS`):
 * one heading per code, so every `doc_url` anchor (`docs/errors.md#<code>`) exists exactly once.
 */
export function errorsMarkdown(): string {
  const codes = [...new Set([...Object.keys(ERROR_CODES), ...Object.keys(HTTP_ERRORS)])];
  const sections = codes.map((code) => {
    const core = ERROR_CODES[code as keyof typeof ERROR_CODES];
    const http = HTTP_ERRORS[code as keyof typeof HTTP_ERRORS];
    const lines = [`## ${code}`, ""];
    lines.push(`**${(core ?? http)!.title}.** ${core?.description ?? http!.description}`);
    if (core && http && (http.description as string) !== core.description) lines.push("", http.description);
    const where = [core ? "returned by `@paylink/core` commands" : null, http ? httpLine(http) : null];
    lines.push("", `*${where.filter(Boolean).join("; ")}.*`);
    return `${lines.join("\n")}\n`;
  });
  return `${HEADER.replace("the machine", "the error registries")}

# Errors

Core commands return errors as values with a stable \`code\`; nothing is thrown across the API. Over HTTP,
dialect A answers \`{ "success": false, "error": { type, code, message, param, details, doc_url } }\` and
dialect B (DNA) answers \`{ code, message }\`; \`doc_url\` points at the heading of its code on this page.

| code | core | HTTP, dialect A | HTTP, dialect B |
|---|---|---|---|
${codes
  .map((code) => {
    const http = HTTP_ERRORS[code as keyof typeof HTTP_ERRORS];
    const core = code in ERROR_CODES ? "✓" : "";
    return `| [\`${code}\`](#${code}) | ${core} | ${http ? `${http.status} \`${http.type}\`` : ""} | ${http ? http.dnaStatus : ""} |`;
  })
  .join("\n")}

${sections.join("\n")}`;
}

function httpLine(http: { status: number; dnaStatus: number; type: string }): string {
  const dna = http.dnaStatus === http.status ? "" : `, dialect B ${http.dnaStatus}`;
  return `over HTTP: ${http.status} \`${http.type}\`${dna}`;
}

/** The lifecycle diagram as SVG, rendered from the machine's DOT export by Graphviz (WebAssembly, no browser). */
export async function lifecycleSvg(): Promise<string> {
  const viz = await instance();
  return viz.renderString(toDot(), { format: "svg", engine: "dot" });
}

/** Every generated file, by path from the repository root. */
export async function generatedDocs(): Promise<Record<string, string>> {
  return {
    "docs/lifecycle.md": lifecycleMarkdown(),
    "docs/lifecycle.svg": await lifecycleSvg(),
    "docs/errors.md": errorsMarkdown(),
    "docs/lifecycle.stately.js": toStatelySource(),
  };
}
