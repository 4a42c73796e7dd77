/**
 * The layers of docs/DESIGN.md ("Layers"), read from the import graph of
 * every product module: which folder may import which. The exceptions that
 * still stand are listed by file, so a new one cannot slip in; removing one
 * (issue #20) means deleting its line here.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../..", import.meta.url).pathname;

/**
 * Folders (or single files) each product folder may import, besides itself.
 */
const ALLOWED: Record<string, readonly string[]> = {
  // ops/ may launch and measure the product; tests/ may import anything.
  shared: [],
  router: ["shared"],
  gateway: ["shared"],
  // Type-only: the shipped bundle (client/dist) carries no import at all.
  client: ["shared"],
  // The demo composes the embedded process to run inside it
  // (`deno task start`); nothing of the product imports the demo.
  demo: ["shared", "gateway/embedded.ts"],
  ops: ["shared", "router", "gateway"],
};

/** Imports across layers that still stand, as `from -> to`. */
const EXCEPTIONS = new Set([
  // The embedded all-in-one mounts the router app beside the gateway node.
  "gateway/embedded.ts -> router/app.ts",
  "gateway/embedded.ts -> router/metrics.ts",
  "gateway/embedded.ts -> router/node_client.ts",
  "gateway/embedded.ts -> router/route_cache.ts",
]);

/** Every `.ts` file under `dir` (generated bundles and node_modules left out). */
async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.name === "node_modules" || path === "client/dist") continue;
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Relative import targets of one file, as paths from the repository root. */
async function importsOf(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${ROOT}${file}`);
  const targets: string[] = [];
  for (
    const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)
  ) {
    const url = new URL(m[1]!, `file://${ROOT}${file}`);
    targets.push(url.pathname.slice(ROOT.length));
  }
  return targets;
}

Deno.test("layering - product folders import only the layers below them, exceptions named", async () => {
  const crossings: string[] = [];
  const seen = new Set<string>();
  for (const folder of Object.keys(ALLOWED)) {
    for await (const file of sources(folder)) {
      for (const target of await importsOf(file)) {
        const to = target.split("/")[0]!;
        if (to === folder || !(to in ALLOWED || to === "tests")) continue;
        if (ALLOWED[folder]!.some((a) => a === to || a === target)) continue;
        const edge = `${file} -> ${target}`;
        seen.add(edge);
        if (!EXCEPTIONS.has(edge)) crossings.push(edge);
      }
    }
  }
  assert.deepEqual(crossings, [], "imports against docs/DESIGN.md's layers");
  const stale = [...EXCEPTIONS].filter((edge) => !seen.has(edge));
  assert.deepEqual(stale, [], "exceptions that no longer exist: drop them");
});
