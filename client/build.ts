/**
 * Builds the client: `client/wsgw_client.ts` and its `_` modules become
 * `client/dist/client.js` (one ES module, no imports; what the npm package
 * ships), `client/dist/client.min.js` (the same, minified: what every
 * gateway serves at `/client.js`) and `client/dist/client.d.ts` (served at
 * `/client.d.ts`). Run `deno task build:client` after changing `client/`;
 * `tests/unit/client_build.test.ts` fails while the dist is stale.
 *
 * Uses `deno bundle` (esbuild, fetched once from npm) and formats the output
 * with `deno fmt`, so the committed files pass `deno fmt --check`.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const ENTRY = "client/wsgw_client.ts";
/** Where the built files go, relative to the repository root. */
export const DIST_JS = "client/dist/client.js";
/** {@link DIST_JS} minified: what gateways serve. */
export const DIST_MIN_JS = "client/dist/client.min.js";
/** The declarations of {@link DIST_JS}. */
export const DIST_DTS = "client/dist/client.d.ts";

const HEADER = [
  "// Generated from client/wsgw_client.ts by `deno task build:client`.",
  "// Do not edit: change the source and rebuild.",
  "// deno-lint-ignore-file",
  "",
].join("\n");

/** The built files, as text. */
export type ClientBuild = { js: string; minJs: string; dts: string };

/** Builds the client in a temporary directory and returns the files' text. */
export async function buildClient(): Promise<ClientBuild> {
  const dir = await Deno.makeTempDir({ prefix: "wsgw_client_build_" });
  try {
    await deno([
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=esm",
      "--declaration",
      `--output=${dir}/client.js`,
      ENTRY,
    ]);
    await deno([
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=esm",
      "--minify",
      `--output=${dir}/client.min.js`,
      ENTRY,
    ]);
    const js = await Deno.readTextFile(`${dir}/client.js`);
    const minJs = await Deno.readTextFile(`${dir}/client.min.js`);
    const dts = await Deno.readTextFile(`${dir}/client.d.ts`);
    const [formattedJs, formattedDts] = await Promise.all([
      format(HEADER + js, "js"),
      format(HEADER + dts, "ts"),
    ]);
    return {
      js: formattedJs,
      minJs:
        `// wsgw client: minified build of client/wsgw_client.ts\n// deno-lint-ignore-file\n${minJs}`,
      dts: formattedDts,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function format(text: string, ext: "js" | "ts"): Promise<string> {
  return await deno(["fmt", `--ext=${ext}`, "-"], text);
}

async function deno(args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(
      `deno ${args[0]} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
  return new TextDecoder().decode(stdout);
}

if (import.meta.main) {
  const { js, minJs, dts } = await buildClient();
  await Deno.mkdir(new URL("client/dist/", ROOT), { recursive: true });
  await Deno.writeTextFile(new URL(DIST_JS, ROOT), js);
  await Deno.writeTextFile(new URL(DIST_MIN_JS, ROOT), minJs);
  await Deno.writeTextFile(new URL(DIST_DTS, ROOT), dts);
  await Deno.stderr.write(
    new TextEncoder().encode(
      `built ${DIST_JS}, ${DIST_MIN_JS} and ${DIST_DTS}\n`,
    ),
  );
}
