/**
 * The push API as a Hono app (PROTOCOL.md "Push API"), with no server inside:
 * `router/main.ts` serves it, the embedded process mounts it beside a gateway
 * node, tests call `app.request()`.
 *
 * @module
 */
import { cachedCall, PING_CACHE_MS } from "../shared/cached_call.ts";
import { type BudgetEnv, KeyBudgets } from "./key_budget.ts";
import { Hono } from "hono";
import type { Context } from "hono";
import { requestId } from "hono/request-id";
import { routePath } from "hono/route";
import { HttpError, UnavailableError } from "../shared/errors.ts";
import { createHealthRoutes } from "../shared/health_routes.ts";
import { jsonErrorHandler, jsonNotFound } from "../shared/json_errors.ts";
import { apiKeyAuth, type ApiKeyEnv } from "./api_key.ts";
import type { RouterDeps } from "./deps.ts";
import { createFanOut } from "./fan_out.ts";
import type { RouterMetrics } from "./metrics.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { adminRoutes } from "./routes/admin.ts";
import { consoleRoutes } from "./console.ts";
import { nodeRoutes } from "./routes/nodes.ts";
import { pushRoutes } from "./routes/push.ts";
import { userRoutes } from "./routes/users.ts";
import { Throttle } from "./throttle.ts";

export type { RouterDeps } from "./deps.ts";
export type { ReadyCheck } from "../shared/health_routes.ts";

/** Variables the router sets on each request context. */
export type RouterEnv = {
  Variables:
    & { requestId: string }
    & ApiKeyEnv["Variables"]
    & BudgetEnv["Variables"];
};

/**
 * Creates the push API app: every `/v1` route, `/openapi.json`, `/healthz`,
 * `/readyz` and `/metrics`.
 *
 * @example
 * ```ts
 * const app = createRouterApp({ config, registry, history, nodes, routes, log, metrics, metricsRegistries });
 * Deno.serve({ port: config.port }, app.fetch);
 * ```
 */
export function createRouterApp(deps: RouterDeps): Hono<RouterEnv> {
  const app = new Hono<RouterEnv>();
  const fanOut = createFanOut(deps);
  const openapi = buildOpenApiDocument(deps.config);

  app.use(requestId());
  app.use("/v1/*", measure(deps.metrics));
  app.use("/v1/*", apiKeyAuth(deps.config.apiKeys));
  app.use(
    "/v1/*",
    new KeyBudgets({
      requestRate: deps.config.keyRequestRate,
      byteRate: deps.config.keyByteRate,
    }).requests(),
  );
  app.route("/v1", pushRoutes(deps, fanOut));
  app.route("/v1", userRoutes(deps, fanOut));
  app.route("/v1", nodeRoutes(deps, fanOut));
  app.route("/v1", adminRoutes(deps, fanOut));
  app.route("/", consoleRoutes());

  app.get("/openapi.json", (c) => c.json(openapi));
  app.route(
    "/",
    createHealthRoutes({
      log: deps.log,
      metricsRegistries: deps.metricsRegistries,
      readyChecks: {
        // Each backend pinged at most once a second, however many probes.
        registry: cachedCall(() => deps.registry.ping(), PING_CACHE_MS),
        history: cachedCall(() => deps.history.ping(), PING_CACHE_MS),
        routes: () => {
          if (!deps.routes.isReady) {
            throw new UnavailableError(
              "waiting for the first registry listing",
            );
          }
        },
        ...deps.readyChecks,
      },
    }),
  );

  app.notFound(jsonNotFound);
  app.onError(errorHandler(deps));
  return app;
}

/** Counts and times every `/v1` request by route pattern and status. */
function measure(metrics: RouterMetrics) {
  return async (c: Context, next: () => Promise<void>) => {
    const start = performance.now();
    await next();
    // The last matched route is the endpoint; a pattern ending in `*` is our
    // own middleware, so nothing matched. Never the path: it holds user ids.
    const pattern = routePath(c, -1);
    const route = pattern.endsWith("*") ? "unmatched" : pattern;
    metrics.pushRequests.inc({ route, status: String(c.res.status) });
    metrics.pushDuration.observe({ route }, (performance.now() - start) / 1000);
  };
}

/** JSON errors; backend failures logged (throttled per code), the unexpected always. */
function errorHandler(deps: RouterDeps) {
  const throttle = new Throttle();
  return jsonErrorHandler<Context<RouterEnv>>((error, c, expected) => {
    const requestId = c.get("requestId");
    if (!expected) {
      deps.log.error("unexpected error", {
        requestId,
        method: c.req.method,
        route: routePath(c),
        error,
      });
    } else if (error instanceof HttpError && throttle.allow(error.code)) {
      deps.log.warn("request failed", { requestId, code: error.code, error });
    }
  });
}
