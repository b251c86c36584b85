/**
 * The lifecycle diagram of `/lifecycle`: core's DOT export of the machine, rendered to SVG once by
 * Graphviz (WebAssembly, `@viz-js/viz`, as `pnpm docs:generate` does for `docs/lifecycle.svg`), with a
 * count line under each status that is filled in per request.
 */
import { type Kind, type Status, toDot } from "@paylink/core";
import { escapeHtml } from "./html.js";

/** Placeholder drawn under each status at render time; wide enough for the longest count text. */
const SLOT = "000 payments";

/** Adds the count slot to every status node of `toDot()`. */
export function dotWithCountSlots(dot: string): string {
  return dot.replace(
    /^(\s+(?:link|charge)_[a-z]+ \[label=")([^"]*)(")/gm,
    (_match, before: string, label: string, after: string) => `${before}${label}\\n${SLOT}${after}`,
  );
}

let rendered: Promise<string> | undefined;

/** The SVG with count slots, rendered on first use and kept. Rejects when Graphviz cannot load. */
function template(): Promise<string> {
  rendered ??= (async () => {
    const { instance } = await import("@viz-js/viz");
    const viz = await instance();
    const svg = viz.renderString(dotWithCountSlots(toDot()), { format: "svg", engine: "dot" });
    // Inline in HTML: drop the XML prolog, doctype and comments, and let CSS size it by its viewBox.
    return svg
      .slice(svg.indexOf("<svg"))
      .replace(/<!--[\s\S]*?-->/g, "")
      .replace(/^<svg width="[^"]*" height="[^"]*"/, '<svg role="img" aria-labelledby="lifecycle-title"')
      .replace("<title>lifecycle</title>", '<title id="lifecycle-title">The payment lifecycle</title>')
      .trim();
  })();
  rendered.catch(() => {
    rendered = undefined; // try again on the next request
  });
  return rendered;
}

const countText = (n: number) => (n === 1 ? "1 payment" : `${n} payments`);

/**
 * The diagram with `count(kind, status)` written under each status. The SVG is generated from the
 * machine by Graphviz (trusted markup); the counts are numbers.
 */
export async function lifecycleSvg(count: (kind: Kind, status: Status) => number): Promise<string> {
  const svg = await template();
  return svg.replace(
    /(<title>(link|charge)_([a-z]+)<\/title>[\s\S]*?)000 payments/g,
    (_match, head: string, kind: Kind, status: Status) =>
      `${head}${escapeHtml(countText(count(kind, status)))}`,
  );
}
