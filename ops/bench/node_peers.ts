/**
 * The Node side of the `sio` system: Socket.IO's peers run on Node, as its
 * users run it, from ops/bench/peers/node with the packages its
 * package-lock.json pins (the same versions deno.lock pins for `sio-deno`).
 * They are installed there with `npm ci` when missing or stale.
 *
 * @module
 */

/** The folder of the Node peers (scripts, package.json, package-lock.json). */
export const NODE_PEERS_DIR = new URL("./peers/node/", import.meta.url)
  .pathname;

type Lock = {
  packages: Record<string, { version?: string; optional?: boolean }>;
};

/** Whether every package of the lock file is installed at its locked version. */
export async function nodePeersInstalled(): Promise<boolean> {
  const lock = JSON.parse(
    await Deno.readTextFile(`${NODE_PEERS_DIR}package-lock.json`),
  ) as Lock;
  for (const [path, entry] of Object.entries(lock.packages)) {
    // "" is the folder itself; optional packages may be absent by design.
    if (!path.startsWith("node_modules/") || entry.optional) continue;
    try {
      const installed = JSON.parse(
        await Deno.readTextFile(`${NODE_PEERS_DIR}${path}/package.json`),
      ) as { version?: string };
      if (installed.version !== entry.version) return false;
    } catch {
      return false;
    }
  }
  return true;
}

let version: Promise<string> | undefined;

/** `node --version` (e.g. `v20.20.2`); a clear error when Node is missing. */
export function nodeVersion(): Promise<string> {
  version ??= run("node", ["--version"]).then((out) => out.trim());
  return version;
}

/**
 * Makes the Node peers runnable: checks that Node is there, and runs
 * `npm ci` in {@link NODE_PEERS_DIR} (announced through `say`) unless every
 * locked package is installed already.
 */
export async function ensureNodePeers(
  say: (text: string) => void,
): Promise<void> {
  await nodeVersion();
  if (await nodePeersInstalled()) return;
  say(
    "sio: installing the Socket.IO peers' Node packages (npm ci in ops/bench/peers/node)",
  );
  await run("npm", ["ci", "--no-audit", "--no-fund"], NODE_PEERS_DIR);
  if (!(await nodePeersInstalled())) {
    throw new Error(
      `npm ci in ${NODE_PEERS_DIR} finished but the locked packages are not all installed`,
    );
  }
}

/** Runs `cmd` to completion; its stdout, or an error naming it with its stderr. */
async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(cmd, {
      args,
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `the sio system runs Socket.IO on Node, but \`${cmd}\` is not on PATH: install Node ≥ 20 with npm, or use --systems sio-deno`,
      );
    }
    throw error;
  }
  if (!output.success) {
    throw new Error(
      `\`${cmd} ${args.join(" ")}\`${
        cwd ? ` in ${cwd}` : ""
      } exited with ${output.code}:\n${
        new TextDecoder().decode(output.stderr).slice(-2000)
      }`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}
