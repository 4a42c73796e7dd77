/**
 * The launcher's control endpoint: while `deno task cluster` runs, an
 * operator stops, starts and restarts its processes, with new environment
 * for a rolling restart or a secret rotation, through
 * `deno task ctl cluster …` (ops/ctl/cluster_command.ts). It listens on
 * 127.0.0.1 behind a random bearer token written to the state file (0600).
 *
 * | request | does |
 * | --- | --- |
 * | `GET /v1/processes` | every process: name, running, pid, url, extra env names |
 * | `POST /v1/processes/<name>/stop` | SIGTERM (a gateway drains), SIGKILL after the stop timeout |
 * | `POST /v1/processes/<name>/start` | starts it again on its ports, answers once ready |
 * | `POST /v1/processes/<name>/restart` | stop, then start |
 * | `POST /v1/gateways` | one more gateway, then haproxy reloaded with it |
 * | `DELETE /v1/processes/<gw-N>` | drains and stops that gateway, reloads haproxy without it |
 *
 * A start or restart may carry `{"env": {"NAME": "value"}}`: kept for every
 * later start of that process (`""` removes a variable).
 *
 * @module
 */
import type { ProcessHandle } from "./handle.ts";

/** What the control endpoint acts on. */
export type ControlTarget = {
  processes(): ProcessHandle[];
  addGateway(): Promise<ProcessHandle>;
  removeGateway(name: string): Promise<void>;
  /** Called after every action, e.g. to rewrite the state file with new pids. */
  changed(): Promise<void>;
  log(message: string): void;
};

/** A running control endpoint. */
export type ControlServer = AsyncDisposable & {
  readonly url: string;
  readonly token: string;
};

const ACTIONS = ["stop", "start", "restart"] as const;
type Action = typeof ACTIONS[number];
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** Starts the endpoint on a free port of 127.0.0.1. */
export function startControlServer(target: ControlTarget): ControlServer {
  const token = crypto.randomUUID();
  // One action at a time: a restart racing a stop would leave either state.
  let queue: Promise<unknown> = Promise.resolve();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      if (request.headers.get("authorization") !== `Bearer ${token}`) {
        return answer(401, { error: "bad or missing control token" });
      }
      const url = new URL(request.url);
      if (request.method === "GET" && url.pathname === "/v1/processes") {
        return answer(200, target.processes().map(describe));
      }
      if (request.method === "POST" && url.pathname === "/v1/gateways") {
        return await serialized(async () => {
          target.log("control: add a gateway");
          const added = await target.addGateway();
          target.log(`control: ${added.name} running, pid ${added.pid}`);
          return describe(added);
        }, "add a gateway");
      }
      const gone = /^\/v1\/processes\/(gw-\d+)$/.exec(url.pathname);
      if (request.method === "DELETE" && gone) {
        const name = gone[1]!;
        if (!target.processes().some((p) => p.name === name)) {
          return answer(404, { error: `no gateway "${name}"` });
        }
        return await serialized(async () => {
          target.log(`control: remove ${name}`);
          await target.removeGateway(name);
          target.log(`control: ${name} removed`);
          return { name, removed: true };
        }, `remove ${name}`);
      }
      const match = /^\/v1\/processes\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
      if (request.method !== "POST" || !match) {
        return answer(404, {
          error: `no route ${request.method} ${url.pathname}`,
        });
      }
      const [, name, action] = match as unknown as [string, string, string];
      const all = target.processes();
      const process = all.find((p) => p.name === name);
      if (!process) {
        return answer(404, {
          error: `no process "${name}"; there are ${
            all.map((p) => p.name).join(", ")
          }`,
        });
      }
      if (!(ACTIONS as readonly string[]).includes(action)) {
        return answer(400, {
          error: `unknown action "${action}"; use ${ACTIONS.join(", ")}`,
        });
      }
      const body = await request.text();
      let env: Record<string, string> | undefined;
      try {
        env = parseEnv(body);
      } catch (error) {
        return answer(400, { error: (error as Error).message });
      }
      if (env && action === "stop") {
        return answer(400, { error: "stop takes no env; pass it to start" });
      }
      return await serialized(async () => {
        await act(process, action as Action, env, target);
        return describe(process);
      }, `${action} ${name}`);
    },
  );
  /** Runs `work` after every earlier action; 200 with its result, or 400/500. */
  async function serialized(
    work: () => Promise<unknown>,
    what: string,
  ): Promise<Response> {
    const run = queue.then(work);
    queue = run.catch(() => {});
    try {
      return answer(200, await run);
    } catch (error) {
      return answer(error instanceof RangeError ? 400 : 500, {
        error: `could not ${what}: ${
          error instanceof Error ? error.message : error
        }`,
      });
    } finally {
      await target.changed();
    }
  }
  const { port } = server.addr;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function act(
  process: ProcessHandle,
  action: Action,
  env: Record<string, string> | undefined,
  target: ControlTarget,
): Promise<void> {
  const names = env ? ` with ${Object.keys(env).join(", ")}` : "";
  target.log(`control: ${action} ${process.name}${names}`);
  if (action !== "start") await process.stop();
  if (env) process.env = { ...process.env, ...env };
  if (action !== "stop") await process.start();
  target.log(
    `control: ${process.name} ${
      action === "stop" ? "stopped" : `running, pid ${process.pid}`
    }`,
  );
}

/** `{"env": {...}}`, an empty body, or an error naming what is wrong. */
function parseEnv(body: string): Record<string, string> | undefined {
  if (body.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error('the body must be JSON: {"env": {"NAME": "value"}}');
  }
  const env = (value as { env?: unknown } | null)?.env;
  if (env === undefined) return undefined;
  if (typeof env !== "object" || env === null || Array.isArray(env)) {
    throw new Error('"env" must be an object of strings');
  }
  for (const [name, v] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      throw new Error(`"${name}" is not an environment variable name`);
    }
    if (typeof v !== "string") {
      throw new Error(`"env.${name}" must be a string`);
    }
  }
  return env as Record<string, string>;
}

function describe(p: ProcessHandle) {
  return {
    name: p.name,
    running: p.running,
    pid: p.pid ?? 0,
    url: p.url,
    env: Object.keys(p.env),
  };
}

function answer(status: number, body: unknown): Response {
  return Response.json(body, { status });
}
