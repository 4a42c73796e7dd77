/**
 * The image builds from the committed tree, checked without a Docker engine:
 * the files the Dockerfile copies (through `.dockerignore`) are staged into a
 * temp dir, the Dockerfile's own `RUN` (frozen install, type checks) runs
 * there with an empty dependency cache, every entry point in the image type
 * checks, only runtime packages are fetched, and the embedded process starts
 * from the staged tree and passes the image's HEALTHCHECK.
 */
import assert from "node:assert/strict";
import {
  copySteps,
  dockerIgnore,
  dockerInstructions,
  stageCopies,
} from "../_support/docker_stage.ts";
import { opsTest, ROOT, run } from "../_support/ops_tools.ts";
import { freePort, waitFor } from "../_support/until.ts";

/** Packages only tests, the bench peers or tooling import. */
const DEV_PACKAGES = [
  "playwright-core",
  "fast-check",
  "socket.io",
  "@socket.io",
];

type Lock = {
  specifiers: Record<string, string>;
  npm: Record<string, unknown>;
};

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}

/** Runs `command` through sh in `cwd` with its own DENO_DIR. */
async function sh(command: string, cwd: string, denoDir: string) {
  const denoBin = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));
  const output = await new Deno.Command("sh", {
    args: ["-c", command],
    cwd,
    env: {
      DENO_DIR: denoDir,
      PATH: `${denoBin}:${Deno.env.get("PATH") ?? ""}`,
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: output.code,
    text: decode(output.stdout) + decode(output.stderr),
  };
}

opsTest("ops - the image builds from the committed tree", [
  "git",
], async () => {
  const dockerfile = await Deno.readTextFile(`${ROOT}Dockerfile`);
  const ignored = dockerIgnore(await Deno.readTextFile(`${ROOT}.dockerignore`));
  const tracked = (await run("git", ["ls-files", "-z"])).stdout.split("\0")
    .filter((f) => f !== "");
  assert.ok(tracked.length > 50, "git ls-files listed no files");
  const context = tracked.filter((f) => !ignored(f));
  const stage = await Deno.makeTempDir({ prefix: "wsgw-image-" });
  const denoDir = await Deno.makeTempDir({ prefix: "wsgw-image-cache-" });
  let embedded: Deno.ChildProcess | undefined;
  try {
    const staged = await stageCopies(
      ROOT,
      context,
      copySteps(dockerfile),
      stage,
    );
    assert.ok(staged.includes("deno.json") && staged.includes("deno.lock"));

    const instructions = dockerInstructions(dockerfile);
    const runs = instructions.filter((i) =>
      i.op === "RUN" && /\bdeno (install|check)\b/.test(i.args)
    );
    assert.ok(runs.length > 0, "no RUN deno … in the Dockerfile");
    for (const step of runs) {
      assert.match(step.args, /deno install --frozen/);
      const ran = await sh(step.args, stage, denoDir);
      assert.equal(ran.code, 0, `RUN ${step.args}\n${ran.text}`);
    }

    // Every module of the image that runs as a program is type-checked by
    // the build, so a new entry point cannot slip past it.
    const checked = runs.map((r) => r.args).join(" ");
    const entries: string[] = [];
    for (const path of staged.filter((p) => p.endsWith(".ts"))) {
      const text = await Deno.readTextFile(`${stage}/${path}`);
      if (text.includes("import.meta.main")) entries.push(path);
    }
    assert.ok(entries.includes("gateway/main.ts"));
    for (const entry of entries) {
      assert.ok(
        new RegExp(`deno check[^&]*\\s${entry.replace(".", "\\.")}`).test(
          checked,
        ),
        `the Dockerfile does not type-check the entry point ${entry}`,
      );
    }

    const fetched: string[] = [];
    for await (const e of Deno.readDir(`${denoDir}/npm/registry.npmjs.org`)) {
      fetched.push(e.name);
    }
    assert.ok(fetched.includes("hono"), `fetched: ${fetched.join(" ")}`);
    for (const dev of DEV_PACKAGES) {
      assert.ok(!fetched.includes(dev), `the image fetches ${dev}`);
    }

    const user = instructions.filter((i) => i.op === "USER").at(-1)?.args;
    assert.match(user ?? "", /^[1-9]\d*(:\d+)?$/, "USER: numeric, not root");

    // The image's entry point, from the staged tree, nothing fetched; then
    // the image's HEALTHCHECK command against it.
    const entrypoint = JSON.parse(
      instructions.find((i) => i.op === "ENTRYPOINT")!.args,
    ) as string[];
    assert.ok(entrypoint.includes("--cached-only"));
    const port = freePort();
    embedded = new Deno.Command(Deno.execPath(), {
      args: [...entrypoint.slice(1), "demo/embedded_demo.ts"],
      cwd: stage,
      env: { DENO_DIR: denoDir, PORT: String(port), NO_COLOR: "1" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const health = instructions.find((i) => i.op === "HEALTHCHECK");
    assert.ok(health, "no HEALTHCHECK");
    const probe = JSON.parse(health.args.slice(health.args.indexOf("CMD") + 3))
      .map((arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`).join(" ");
    await waitFor(
      async () =>
        (await sh(`PORT=${port} ${probe}`, stage, denoDir)).code === 0,
      { timeout: 30_000, interval: 200, what: "the HEALTHCHECK to pass" },
    );
    // What is served from files, not imports (the client module, the demo
    // page), came along too.
    for (const path of ["/client.js", "/"]) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      await response.body?.cancel();
      assert.equal(response.status, 200, `GET ${path} from the staged image`);
    }
  } finally {
    try {
      embedded?.kill("SIGKILL");
      await embedded?.status;
    } catch {
      // exited already
    }
    await Deno.remove(stage, { recursive: true });
    await Deno.remove(denoDir, { recursive: true });
  }
});

opsTest(
  "ops - the image's lock pins the versions of deno.lock, runtime packages only",
  [],
  async () => {
    const main = await readJson<Lock>(`${ROOT}deno.lock`);
    const image = await readJson<Lock>(`${ROOT}deploy/image/deno.lock`);
    const hint = "run `deno task image:lock`";
    for (const [specifier, version] of Object.entries(image.specifiers)) {
      assert.equal(
        version,
        main.specifiers[specifier],
        `${specifier}: ${hint}`,
      );
    }
    // Same package versions and tarballs (Deno may spell a dependency
    // list differently once fewer versions share a name).
    type Entry = { integrity: string };
    for (const [name, entry] of Object.entries(image.npm)) {
      assert.equal(
        (entry as Entry).integrity,
        (main.npm[name] as Entry | undefined)?.integrity,
        `${name}: ${hint}`,
      );
    }
    const rootConfig = await readJson<
      { imports: Record<string, string>; compilerOptions: unknown }
    >(`${ROOT}deno.json`);
    const imageConfig = await readJson<typeof rootConfig>(
      `${ROOT}deploy/image/deno.json`,
    );
    for (const [alias, target] of Object.entries(imageConfig.imports)) {
      assert.equal(target, rootConfig.imports[alias], `import ${alias}`);
      assert.ok(!DEV_PACKAGES.some((dev) => alias.startsWith(dev)), alias);
    }
    assert.deepEqual(imageConfig.compilerOptions, rootConfig.compilerOptions);
    for (const specifier of Object.keys(image.specifiers)) {
      assert.ok(
        Object.values(imageConfig.imports).includes(specifier),
        `${specifier} is locked but not imported: ${hint}`,
      );
    }
  },
);
