/**
 * `client/` as an npm package, used as an app would: `npm pack`, install
 * the tarball into a throwaway project, bundle a page with it (`deno
 * bundle`, i.e. esbuild, resolving the package from node_modules), and
 * Chromium receives pushes through it from a live gateway; a Node script
 * using the installed package receives one too; the shipped types reject an
 * unknown event name.
 *
 * Node here is v20, whose WebSocket global sits behind
 * `--experimental-websocket` (on by default from Node 22): the script runs
 * with that flag. `node` and `npm` are required (ops/test.sh runs on them).
 */
import assert from "node:assert/strict";
import { signToken } from "../../shared/token.ts";
import { browserTest } from "../_support/browser.ts";
import { JWT_SECRET, startTestGateway } from "../_support/embedded.ts";
import { waitFor } from "../_support/until.ts";

const CLIENT_DIR = new URL("../../client/", import.meta.url);

async function run(
  command: string,
  args: string[],
  cwd: string | URL,
  env: Record<string, string> = {},
): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (!success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${
        new TextDecoder().decode(stderr)
      }${text}`,
    );
  }
  return text;
}

/** A temp project with the packed client installed; removed on dispose. */
async function installedProject(): Promise<AsyncDisposable & { dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "wsgw_client_pkg_" });
  try {
    const packed = JSON.parse(
      await run(
        "npm",
        ["pack", "--json", "--pack-destination", dir],
        CLIENT_DIR,
      ),
    );
    const tarball = packed[0].filename as string;
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({ name: "app", private: true, type: "module" }),
    );
    await run("npm", [
      "install",
      "--offline",
      "--no-audit",
      "--no-fund",
      `./${tarball}`,
    ], dir);
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const PAGE =
  `<!doctype html><meta charset="utf-8"><script src="/app.js"></script>`;

const APP = `import { WsgwClient } from "@wsgw/client";
globalThis.received = [];
globalThis.startApp = (url, token) => {
  const client = new WsgwClient({ url, token });
  client.addEventListener("message", (e) => globalThis.received.push(e.detail.data));
  return client.connect().then((w) => w.userId);
};
`;

const NODE_SCRIPT = `import { WsgwClient } from "@wsgw/client";
const client = new WsgwClient({ url: process.env.WSGW_URL, token: process.env.WSGW_TOKEN });
client.addEventListener("message", async (e) => {
  console.log(JSON.stringify({ message: e.detail.data }));
  await client.close();
});
client.addEventListener("error", (e) => console.log(JSON.stringify({ error: e.detail.code })));
const welcome = await client.connect();
console.log(JSON.stringify({ connected: welcome.userId }));
`;

const TYPED = `import { WsgwClient, type WsgwMessage } from "@wsgw/client";
const client = new WsgwClient<{ n: number }>({ url: "ws://x/ws", token: "t" });
client.addEventListener("message", (e) => {
  const message: WsgwMessage<{ n: number }> = e.detail;
  message.data.n.toFixed();
});
`;

browserTest(
  "client package - npm pack, install, bundle: Chromium receives pushes through the package",
  async (browser) => {
    await using project = await installedProject();
    await Deno.writeTextFile(`${project.dir}/app.js`, APP);
    await run("deno", [
      "bundle",
      "--quiet",
      "--platform=browser",
      `--output=${project.dir}/bundle.js`,
      `${project.dir}/app.js`,
    ], project.dir);
    const bundle = await Deno.readTextFile(`${project.dir}/bundle.js`);
    assert.match(bundle, /node_modules\/@wsgw\/client\/dist\/client\.js/);
    await using gateway = await startTestGateway();
    await using site = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) =>
        new URL(request.url).pathname === "/app.js"
          ? new Response(bundle, {
            headers: { "content-type": "text/javascript" },
          })
          : new Response(PAGE, { headers: { "content-type": "text/html" } }),
    );
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${site.addr.port}/`);
    const token = await signToken(JWT_SECRET, { sub: "packaged" });
    const userId = await page.evaluate(
      // deno-lint-ignore no-explicit-any
      ([url, token]) => (globalThis as any).startApp(url, token),
      [`${gateway.url.replace("http", "ws")}/ws`, token] as const,
    );
    assert.equal(userId, "packaged");
    await gateway.api("POST", "/v1/push", { users: ["packaged"], data: "one" });
    await gateway.api("POST", "/v1/push", { users: ["packaged"], data: "two" });
    await waitFor(
      async () =>
        // deno-lint-ignore no-explicit-any
        (await page.evaluate(() => (globalThis as any).received)).length === 2,
      { what: "two pushes in the page", interval: 50 },
    );
    assert.deepEqual(
      // deno-lint-ignore no-explicit-any
      await page.evaluate(() => (globalThis as any).received),
      ["one", "two"],
    );
  },
);

Deno.test(
  "client package - a Node script using the installed package receives a push; the types reject an unknown event",
  async () => {
    await using project = await installedProject();
    await Deno.writeTextFile(`${project.dir}/typed.ts`, TYPED);
    await run("deno", ["check", "typed.ts"], project.dir);
    await Deno.writeTextFile(
      `${project.dir}/typo.ts`,
      `${TYPED}client.addEventListener("mesage", () => {});\n`,
    );
    await assert.rejects(
      run("deno", ["check", "typo.ts"], project.dir),
      /"mesage"/,
    );

    await using gateway = await startTestGateway();
    await Deno.writeTextFile(`${project.dir}/script.mjs`, NODE_SCRIPT);
    const child = new Deno.Command("node", {
      args: ["--experimental-websocket", "script.mjs"],
      cwd: project.dir,
      env: {
        WSGW_URL: `${gateway.url.replace("http", "ws")}/ws`,
        WSGW_TOKEN: await signToken(JWT_SECRET, { sub: "node-user" }),
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines: string[] = [];
    const reading = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write: (chunk) => void lines.push(...chunk.split("\n").filter(Boolean)),
      }),
    );
    try {
      await waitFor(() => lines.includes('{"connected":"node-user"}'), {
        what: "the Node script connected",
        timeout: 15_000,
      });
      await gateway.api("POST", "/v1/push", { users: ["node-user"], data: 42 });
      const status = await child.status;
      await reading;
      assert.deepEqual(lines, ['{"connected":"node-user"}', '{"message":42}']);
      assert.equal(status.code, 0, "the script ended on its own after close()");
    } finally {
      try {
        child.kill();
      } catch {
        // already exited
      }
      await child.stderr.cancel().catch(() => {});
    }
  },
);
