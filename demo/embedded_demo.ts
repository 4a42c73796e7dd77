/**
 * `deno task start`: the embedded all-in-one (gateway/embedded.ts) with the
 * demo mounted while it runs with the development JWT secret: the page at
 * `/` and the `/demo/*` routes beside the push API, on one port. The demo
 * signs tokens for any user: fine on a laptop only, hence the secret check.
 *
 * @example
 * ```sh
 * deno task start            # http://127.0.0.1:8080, dev secrets
 * PORT=9000 deno task start
 * ```
 * @module
 */
import { Hono } from "hono";
import { type Config, DEV_JWT_SECRET } from "../shared/config.ts";
import { configFromEnv, exitOnSignals } from "../shared/entry_point.ts";
import { createLogger, type Logger } from "../shared/log.ts";
import { type Embedded, startEmbedded } from "../gateway/embedded.ts";
import { createDemoService } from "./demo_service.ts";
import { createPageRoutes } from "./page_routes.ts";

/** Options of {@link startEmbeddedDemo}. */
export type EmbeddedDemoOptions = {
  /** Milliseconds from a demo upload to its push. @default 3000 */
  jobMs?: number;
};

/**
 * Starts the embedded process on `config.port` (0 picks a free port), with
 * the demo when `config` holds the development JWT secret.
 */
export async function startEmbeddedDemo(
  config: Config,
  log: Logger = createLogger({ level: config.logLevel }),
  options: EmbeddedDemoOptions = {},
): Promise<Embedded> {
  const jwtSecret = config.jwtSecret;
  if (jwtSecret !== DEV_JWT_SECRET) return await startEmbedded(config, log);
  return await startEmbedded(config, log, {
    mount: (pushApi) => {
      const service = createDemoService({
        jwtSecret,
        apiKey: config.apiKeys[0]!.key,
        // The demo calls the push API over its HTTP contract, in-process.
        routerUrl: "http://embedded.invalid",
        routerFetch: pushApi,
        jobMs: options.jobMs,
        log,
      });
      const app = new Hono();
      app.route("/", createPageRoutes());
      app.route("/", service.app);
      return {
        app,
        [Symbol.asyncDispose]: () => service[Symbol.asyncDispose](),
      };
    },
  });
}

if (import.meta.main) {
  const { config, log } = configFromEnv("embedded");
  const embedded = await startEmbeddedDemo(config, log);
  exitOnSignals(() => embedded.shutdown(), log);
}
