/**
 * `deno task cluster` as a child process for tests: its output collected,
 * and every process it started killed on dispose, whatever happened.
 *
 * @module
 */
import { childrenOf } from "./cluster.ts";
import { waitFor } from "./until.ts";

/** The repository root. */
export const ROOT = new URL("../..", import.meta.url).pathname;

/** The launcher as a child process, its stdout collected. */
export class Launcher implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  output = "";
  readonly #pump: Promise<void>;
  #exited = false;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "ops/cluster.ts", ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        this.output += text;
      }
    };
    this.#pump = Promise.all([
      collect(this.child.stdout),
      collect(this.child.stderr),
    ]).then(() => {});
    this.child.status.then(() => this.#exited = true);
  }

  async status(): Promise<Deno.CommandStatus> {
    const status = await this.child.status;
    await this.#pump;
    return status;
  }

  /** Kills the launcher and every process it left, whatever happened. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#exited) return await this.status().then(() => {});
    // Its children are in their own process groups: find them first.
    const orphans = childrenOf(this.child.pid);
    this.child.kill("SIGKILL");
    await this.status();
    for (const pid of orphans) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

/** Waits until the launcher has written its state file (it does once ready). */
export async function stateFileWritten(path: string): Promise<void> {
  await waitFor(() => Deno.stat(path).then(() => true, () => false), {
    timeout: 60_000,
    interval: 50,
    what: "the state file",
  });
}
