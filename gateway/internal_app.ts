/**
 * The node-internal API routers call (router/node_client.ts HttpNodeClient):
 * deliver (one push, or a batch of them), broadcast, presence, kick, stats,
 * and drain for operators (`deno task ctl drain`). Listens on its own port
 * and refuses any request under `/internal/` without the shared internal
 * secret. In a cluster it also serves `/metrics` (for Prometheus, no
 * secret), so the public port the balancer exposes does not.
 *
 * @module
 */
import { Hono } from "hono";
import type { z } from "zod";
import { BadRequestError, UnauthorizedError } from "../shared/errors.ts";
import { jsonErrorHandler } from "../shared/json_errors.ts";
import type { Logger } from "../shared/log.ts";
import type { DeliverBatchResult, NodeApi } from "../shared/node_api.ts";
import { matchesSecret } from "../shared/secret_compare.ts";
import {
  BroadcastRequestSchema,
  CatchUpRequestSchema,
  DeliverBatchRequestSchema,
  DeliverRequestSchema,
  KickRequestSchema,
} from "../shared/node_api.ts";
import { type DrainPace, drainSchema, parseBody } from "./internal_bodies.ts";

export type { DrainPace } from "./internal_bodies.ts";

/** Creates the internal Hono app serving `node`. */
export function createInternalApp(
  node: NodeApi,
  options: {
    /** Secrets accepted: the current one, and the previous during a rotation. */
    secrets: readonly string[];
    log: Logger;
    /**
     * Starts draining the node (idempotent; a drain under way keeps its
     * pace); serves `POST /internal/drain` with an optional body
     * `{"batch", "intervalMs"}`, which answers 202 at once while the drain
     * runs.
     */
    drain?: (pace: DrainPace) => void;
    /** Serves `GET /metrics` with this Prometheus exposition, when given. */
    metrics?: () => Promise<Response>;
  },
): Hono {
  const app = new Hono();
  app.use("/internal/*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!token || !matchesSecret(token, options.secrets)) {
      throw new UnauthorizedError("internal secret missing or wrong");
    }
    await next();
  });
  app.post("/internal/deliver", async (c) => {
    const request = await body(c.req.raw, DeliverRequestSchema);
    return c.json(await node.deliver(request));
  });
  app.post("/internal/deliver-batch", async (c) => {
    const { deliveries } = await body(c.req.raw, DeliverBatchRequestSchema);
    const results: DeliverBatchResult["results"] = [];
    // One after the other: a user's messages reach its sockets in the order
    // the router sent them.
    for (const request of deliveries) results.push(await node.deliver(request));
    return c.json({ results } satisfies DeliverBatchResult);
  });
  app.post("/internal/broadcast", async (c) => {
    const request = await body(c.req.raw, BroadcastRequestSchema);
    return c.json(await node.broadcast(request));
  });
  app.get("/internal/presence", async (c) => {
    const user = c.req.query("user");
    if (user === undefined) throw new BadRequestError("user is required");
    return c.json(await node.presence(user));
  });
  app.post("/internal/kick", async (c) => {
    const request = await body(c.req.raw, KickRequestSchema);
    return c.json(await node.kick(request));
  });
  app.post("/internal/catch-up", async (c) => {
    const request = await body(c.req.raw, CatchUpRequestSchema);
    return c.json(await node.catchUp(request));
  });
  app.get("/internal/stats", async (c) => c.json(await node.stats()));
  const metrics = options.metrics;
  if (metrics) app.get("/metrics", () => metrics());
  const drain = options.drain;
  if (drain) {
    app.post("/internal/drain", async (c) => {
      // ctl sends no body: the default pace.
      const text = await c.req.text();
      const pace = text.trim() === "" ? {} : parseBody(text, drainSchema);
      drain(pace);
      return c.json({ draining: true }, 202);
    });
  }
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: "no such route" } }, 404)
  );
  app.onError(jsonErrorHandler((error, c, expected) => {
    if (!expected) {
      options.log.error("internal request failed", { error, path: c.req.path });
    }
  }));
  return app;
}

async function body<T>(request: Request, schema: z.ZodType<T>): Promise<T> {
  return parseBody(await request.text(), schema);
}
