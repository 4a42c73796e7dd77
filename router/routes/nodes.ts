/**
 * `GET /v1/nodes`: every live node of the route cache with its own counts. A
 * node that does not answer is still listed, from its registry record, with
 * `"reachable": false`.
 *
 * @module
 */
import { Hono } from "hono";
import { requireScope } from "../api_key.ts";
import type { RouterDeps } from "../deps.ts";
import { count, type FanOut } from "../fan_out.ts";
import type { NodeInfo } from "../schemas.ts";

/** The nodes route, to mount under `/v1`. */
export function nodeRoutes(deps: RouterDeps, fanOut: FanOut): Hono {
  const app = new Hono();

  app.get("/nodes", requireScope("admin"), async (c) => {
    const records = deps.routes.nodes();
    const { answers } = await fanOut(records, "stats", (api) => api.stats());
    const stats = new Map(
      answers.map(({ node, value }) => [node.nodeId, value]),
    );
    const list: NodeInfo[] = records.map((node) => {
      const own = stats.get(node.nodeId);
      return {
        nodeId: node.nodeId,
        url: node.url,
        connections: own ? count(own.connections) : null,
        users: own ? count(own.users) : null,
        // Either side may have heard of a drain first.
        draining: node.draining || own?.draining === true,
        startedAt: node.startedAt,
        reachable: own !== undefined,
        version: own?.version ?? null,
        lease: own?.lease ?? null,
        counters: own?.counters ?? null,
      };
    });
    list.sort((a, b) => a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);
    return c.json(list);
  });

  return app;
}
