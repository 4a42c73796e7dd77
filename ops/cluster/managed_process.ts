/**
 * One child process of the cluster launcher: spawned in its own process group
 * (so a Ctrl-C in the terminal reaches the launcher only, which then stops
 * the children in order), its stdout and stderr split into lines, the last
 * lines kept to explain a failure, readiness polled, and its exit reported as
 * expected (we signalled it) or not.
 *
 * @module
 */

/** What to run; rebuilt by the owner when ports have to change. */
export type ProcessSpec = {
  command: string;
  args: string[];
  /** Added to the launcher's environment (or all of it, with `clearEnv`). */
  env?: Record<string, string>;
  clearEnv?: boolean;
  cwd?: string;
  /** Resolves true once the process serves; polled during {@link ManagedProcess.start}. */
  ready: () => Promise<boolean>;
};

/** Where a process's lines and exit go. */
export type ProcessObserver = {
  /** One line of output, without its newline. */
  line?: (name: string, line: string) => void;
  /** The process ended; `expected` is false when nobody here signalled it. */
  exit?: (name: string, status: Deno.CommandStatus, expected: boolean) => void;
};

/** Signals after which a process is expected to end. */
const TERMINATING = new Set<Deno.Signal>([
  "SIGKILL",
  "SIGTERM",
  "SIGINT",
  "SIGQUIT",
]);
/** Lines kept per process for error messages. */
const TAIL_LINES = 40;
/** Milliseconds between readiness probes. */
const POLL_MS = 50;

/** A child process that can be started, signalled and started again. */
export class ManagedProcess {
  readonly name: string;
  spec: ProcessSpec;
  readonly #observer: ProcessObserver;
  #child: Deno.ChildProcess | undefined;
  #status: Promise<Deno.CommandStatus> | undefined;
  #pumps: Promise<void>[] = [];
  #expectExit = false;
  #tail: string[] = [];
  #lastPid: number | undefined;

  constructor(name: string, spec: ProcessSpec, observer: ProcessObserver) {
    this.name = name;
    this.spec = spec;
    this.#observer = observer;
  }

  /** The pid while running. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The pid of the current or last run. */
  get lastPid(): number | undefined {
    return this.#child?.pid ?? this.#lastPid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** The last lines the process printed (both streams). */
  tail(): string {
    return this.#tail.join("\n");
  }

  /**
   * Spawns the process and resolves once `spec.ready()` says so.
   *
   * @throws {Error} with the process's last lines when it exits first or is
   * not ready within `timeoutMs` (it is killed then).
   */
  async start(timeoutMs: number): Promise<void> {
    if (this.#child) return;
    const { command, args, env, clearEnv, cwd, ready } = this.spec;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args,
        env,
        clearEnv,
        cwd,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // Its own process group: the terminal's SIGINT is ours to relay.
        detached: true,
      }).spawn();
    } catch (error) {
      throw new Error(`${this.name}: cannot run ${command}`, { cause: error });
    }
    this.#child = child;
    this.#lastPid = child.pid;
    this.#expectExit = false;
    this.#tail = [];
    this.#pumps = [this.#pump(child.stdout), this.#pump(child.stderr)];
    let exited = false;
    this.#status = child.status.then(async (status) => {
      exited = true;
      await Promise.all(this.#pumps);
      if (this.#child === child) this.#child = undefined;
      this.#observer.exit?.(this.name, status, this.#expectExit);
      return status;
    });
    const deadline = Date.now() + timeoutMs;
    while (!exited) {
      if (await ready().catch(() => false)) return;
      if (Date.now() >= deadline) {
        await this.kill("SIGKILL");
        throw new Error(
          `${this.name} was not ready within ${timeoutMs} ms; its last lines:\n${this.tail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const status = await this.#status;
    throw new Error(
      `${this.name} exited during start (${
        describeStatus(status)
      }); its last lines:\n${this.tail()}`,
    );
  }

  /**
   * Sends `signal`. For a terminating signal it resolves once the process has
   * exited, sending SIGKILL after `graceMs`; other signals (SIGSTOP, SIGCONT,
   * SIGHUP) resolve at once.
   */
  async kill(signal: Deno.Signal = "SIGKILL", graceMs = 10_000): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const terminating = TERMINATING.has(signal);
    if (terminating) this.#expectExit = true;
    send(child, signal);
    if (!terminating) return;
    // A stopped process acts on nothing but SIGKILL until it is continued.
    if (signal !== "SIGKILL") send(child, "SIGCONT");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        send(child, "SIGKILL");
        resolve();
      }, graceMs);
    });
    await Promise.race([this.#status, late]);
    clearTimeout(timer);
    await this.#status;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs = 10_000): Promise<void> {
    return this.kill("SIGTERM", graceMs);
  }

  /** The exit status of the current (or last) run. */
  get exited(): Promise<Deno.CommandStatus> | undefined {
    return this.#status;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    const emit = (line: string) => {
      this.#tail.push(line);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
      this.#observer.line?.(this.name, line);
    };
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) emit(line);
      }
    } catch (error) {
      emit(`(output lost: ${error instanceof Error ? error.message : error})`);
    }
    if (rest !== "") emit(rest);
  }
}

/** "exit code 1", "signal SIGKILL". */
export function describeStatus(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
}

function send(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch (error) {
    // It exited between our check and the signal: its status says so.
    if (!(error instanceof TypeError)) throw error;
  }
}
