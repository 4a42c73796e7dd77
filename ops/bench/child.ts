/**
 * A child process (Deno, or Node for the Socket.IO peers) that reports in
 * JSON lines on stdout and takes commands on stdin: load clients, the HTTP
 * loader, peer servers.
 *
 * @module
 */

/** One JSON line a child printed. */
export type Line = { type?: string; [key: string]: unknown };

/** A running child; its lines go to listeners, or wait for {@link next}. */
export class Child {
  readonly process: Deno.ChildProcess;
  readonly name: string;
  readonly #listeners = new Set<(line: Line) => void>();
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly done: Promise<void>;

  constructor(name: string, script: string, options: {
    args?: string[];
    env?: Record<string, string>;
    v8Flags?: string[];
    /** Extra `deno run` flags, e.g. `--cpu-prof`. */
    denoFlags?: string[];
    /** `node`: runs `script` with Node (from PATH) instead of `deno run -A`. */
    runtime?: "deno" | "node";
    /** Node's flags when `runtime` is `node`, e.g. `--cpu-prof`. */
    nodeFlags?: string[];
    /** Runs it under `nice -n <nice>` (negative: ahead of other processes; needs root). */
    nice?: number;
  } = {}) {
    this.name = name;
    const v8Flags = options.v8Flags ?? [];
    const [command, args] = options.runtime === "node"
      ? ["node", [...(options.nodeFlags ?? []), ...v8Flags, script]]
      : [Deno.execPath(), [
        "run",
        "-A",
        ...(options.denoFlags ?? []),
        ...(v8Flags.length ? [`--v8-flags=${v8Flags.join(",")}`] : []),
        script,
      ]];
    // nice execs the program: the pid stays the child's own.
    const niced = options.nice
      ? ["nice", ["-n", String(options.nice), command, ...args]] as const
      : [command, args] as const;
    this.process = new Deno.Command(niced[0], {
      args: [...niced[1], ...(options.args ?? [])],
      env: options.env,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.process.stdin.getWriter();
    this.done = this.#pump();
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Calls `listener` with every later line; returns an unsubscribe. */
  on(listener: (line: Line) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The next line of `type` (and matching `where`), or a timeout error. */
  next(type: string, timeoutMs = 600_000): Promise<Line> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new Error(`${this.name}: no "${type}" line within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const off = this.on((line) => {
        if (line.type !== type) return;
        clearTimeout(timer);
        off();
        resolve(line);
      });
      this.done.then(() => {
        clearTimeout(timer);
        off();
        reject(new Error(`${this.name} exited before a "${type}" line`));
      });
    });
  }

  /** Writes one command line to its stdin. */
  async send(command: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(command + "\n"));
  }

  /** Closes its stdin (a load client exits then), SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    await this.#writer.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch { /* gone */ }
    }, graceMs);
    await this.process.status;
    clearTimeout(timer);
  }

  /** SIGTERM, SIGKILL after `graceMs`. */
  async kill(graceMs = 5000): Promise<void> {
    try {
      this.process.kill("SIGTERM");
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch { /* gone */ }
    }, graceMs);
    await this.process.status;
    clearTimeout(timer);
    await this.#writer.close().catch(() => {});
  }

  async #pump(): Promise<void> {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of this.process.stdout) {
      rest += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = rest.indexOf("\n")) !== -1) {
        const text = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        let line: Line;
        try {
          line = JSON.parse(text);
        } catch {
          line = { type: "text", text };
        }
        for (const listener of [...this.#listeners]) listener(line);
      }
    }
  }
}
