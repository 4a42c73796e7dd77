// deno-lint-ignore-file no-console
/**
 * `deno task demo`: the demo business service on its own port, in front of a
 * cluster (or any wsgw). Serves the demo page at `/` (the page of the
 * embedded process), `/client.js`, the `/demo/*` routes and `/healthz`.
 *
 * @example
 * ```sh
 * deno task cluster --nodes 3 --lb --state-file /tmp/wsgw.json &
 * deno task demo --state-file /tmp/wsgw.json        # http://127.0.0.1:8090
 * WSGW_API_KEYS=k WSGW_JWT_SECRET=s deno task demo --router http://127.0.0.1:8080 --gateway http://127.0.0.1:8081
 * ```
 * @module
 */
import { Hono } from "hono";
import { exitOnSignals } from "../shared/entry_point.ts";
import { jsonNotFound } from "../shared/json_errors.ts";
import { createLogger, type Logger } from "../shared/log.ts";
import { serve } from "../shared/serve.ts";
import {
  type DemoArgs,
  DemoUsageError,
  parseDemoArgs,
  USAGE,
} from "./cli_args.ts";
import { createDemoService } from "./demo_service.ts";
import { createPageRoutes } from "./page_routes.ts";

/** A running standalone demo service. */
export type RunningDemo = AsyncDisposable & {
  url: string;
  /** Stops the jobs (nothing more is pushed), then the server. */
  shutdown(): Promise<void>;
};

/** Serves the demo service with the page on `args.host:args.port` (0: a free port). */
export async function startDemo(
  args: DemoArgs,
  log: Logger,
): Promise<RunningDemo> {
  const service = createDemoService({
    jwtSecret: args.jwtSecret,
    apiKey: args.apiKey,
    routerUrl: args.routerUrl,
    wsUrl: args.wsUrl,
    jobMs: args.jobMs,
    log,
  });
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // No gateway on this origin: the page's client module comes from here.
  app.route("/", createPageRoutes({ clientModule: true }));
  app.route("/", service.app);
  app.notFound(jsonNotFound);
  const { server, url } = await serve(args.host, args.port, app.fetch);
  log.warn(
    "the demo signs tokens for any user it is asked for: never expose it",
  );
  log.info("demo listening", { url, router: args.routerUrl, ws: args.wsUrl });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await service[Symbol.asyncDispose]();
      await server.shutdown();
    })();
  return { url, shutdown: stop, [Symbol.asyncDispose]: stop };
}

if (import.meta.main) {
  let args;
  try {
    args = await parseDemoArgs(Deno.args, Deno.env.toObject());
  } catch (error) {
    if (!(error instanceof DemoUsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (args === "help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  const log = createLogger({ fields: { component: "demo" } });
  const demo = await startDemo(args, log);
  console.error(
    `\n  demo: ${demo.url}/  (open it in two windows: two devices of one user)\n`,
  );
  exitOnSignals(() => demo.shutdown(), log);
}
