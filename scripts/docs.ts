import { ERROR_CODES, toDot, toMarkdownTable, toMermaid, toStatelySource } from "@paylink/core";
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

/** The error reference, from the one registry of codes; every `doc_url` anchor points here. */
export function errorsMarkdown(): string {
  const sections = Object.entries(ERROR_CODES).map(
    ([code, entry]) => `## ${code}\n\n**${entry.title}.** ${entry.description}\n`,
  );
  return `${HEADER.replace("the machine", "the error registry")}

# Errors

Every command returns errors as values with a stable \`code\`; nothing is thrown across the API.

${sections.join("\n")}`;
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
