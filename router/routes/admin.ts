/**
 * Admin endpoints of the operator console (router/console.ts), all under
 * `/v1/admin`, all needing the admin scope: the cluster as this router sees
 * it, a user's keys in the registry, and draining a node without the page
 * ever holding the internal secret. Nodes, presence, history, pushes and
 * disconnects have their own endpoints already; the console calls those.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { deadline } from "../../shared/deadline.ts";
import { BadRequestError, NotFoundError } from "../../shared/errors.ts";
import { userIdProblem } from "../../shared/protocol.ts";
import { RegistryKeys } from "../../shared/registry/keys.ts";
import { VERSION } from "../../shared/version.ts";
import {
  type BackendState,
  type ClusterResponse,
  DrainRequest,
  type UserRegistryResponse,
} from "../admin_schemas.ts";
import { requireScope } from "../api_key.ts";
import type { RouterDeps } from "../deps.ts";
import type { FanOut } from "../fan_out.ts";
import { httpNodeDrainer } from "../node_drainer.ts";
import { readJson } from "../read_json.ts";
import { parse } from "../schemas.ts";

/** Longest a backend ping of `GET /v1/admin/cluster` may take. */
const PING_TIMEOUT_MS = 2000;

/** The admin routes, to mount under `/v1`. */
export function adminRoutes(deps: RouterDeps, fanOut: FanOut): Hono {
  const app = new Hono();
  const self = { id: crypto.randomUUID().slice(0, 8), startedAt: Date.now() };
  const keys = new RegistryKeys(deps.config.etcdPrefix);
  const drainNode = deps.drainNode ?? httpNodeDrainer({
    secret: deps.config.internalSecret,
    urlPolicy: deps.config.internalUrlPolicy,
  });
  app.use("/admin/*", requireScope("admin"));

  app.get("/admin/cluster", async (c) => {
    const [registry, history, pushes] = await Promise.all([
      ping(() => deps.registry.ping()),
      ping(() => deps.history.ping()),
      pushCount(deps),
    ]);
    const answer: ClusterResponse = {
      at: Date.now(),
      router: {
        id: self.id,
        version: VERSION,
        startedAt: self.startedAt,
        pushes,
        routeCache: {
          entries: deps.routes.size,
          nodes: deps.routes.nodes().length,
          ready: deps.routes.isReady,
          lastEventAt: deps.routes.lastEventAt,
        },
      },
      registry,
      history,
    };
    return c.json(answer);
  });

  app.get("/admin/users/:user", async (c) => {
    const user = lastSegment(c, "user");
    const problem = userIdProblem(user);
    if (problem !== undefined) throw new BadRequestError(`user: ${problem}`);
    // The registry itself, not the route cache: the console shows both so
    // an operator sees when they disagree.
    const [owners, devices] = await Promise.all([
      deps.registry.owners(user),
      deps.registry.devices(user),
    ]);
    const nodeIds = [...new Set([...owners, ...devices.map((d) => d.nodeId)])]
      .sort();
    const records = nodeIds.flatMap((id) => deps.routes.node(id) ?? []);
    const { answers } = await fanOut(records, "stats", (api) => api.stats());
    const leases = new Map(
      answers.map(({ node, value }) => [node.nodeId, value.lease?.id ?? null]),
    );
    const answer: UserRegistryResponse = {
      user,
      keys: nodeIds.map((nodeId) => ({
        key: keys.user(user, nodeId),
        nodeId,
        lease: leases.get(nodeId) ?? null,
        devices: devices.filter((d) => d.nodeId === nodeId).map((d) => ({
          connId: d.connId,
          connectedAt: d.connectedAt,
        })),
      })),
      routeCache: deps.routes.owners(user).sort(),
    };
    return c.json(answer);
  });

  app.post("/admin/nodes/:node/drain", async (c) => {
    const nodeId = segment(c, -2, "node");
    if (nodeId === "" || nodeId.length > 128) {
      throw new BadRequestError("node: must be 1 to 128 characters");
    }
    const body = await readJson(c.req.raw, {
      maxBytes: deps.config.maxBodyBytes,
      optional: true,
    });
    const pace = parse(DrainRequest, body ?? {});
    const node = deps.routes.node(nodeId);
    if (!node) {
      throw new NotFoundError(
        `node: no live node ${
          JSON.stringify(nodeId)
        } (it may have left already)`,
      );
    }
    await drainNode(node, pace);
    deps.log.info("node drain asked through the admin API", { nodeId });
    return c.json({ nodeId, draining: true as const }, 202);
  });

  return app;
}

/** A backend's answer to a ping, timed, never thrown. */
async function ping(call: () => Promise<void>): Promise<BackendState> {
  const start = performance.now();
  const ms = () => Math.round((performance.now() - start) * 10) / 10;
  try {
    await deadline(call(), PING_TIMEOUT_MS, "ping");
    return { reachable: true, ms: ms() };
  } catch (error) {
    return {
      reachable: false,
      ms: ms(),
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Push and broadcast requests this router answered with 2xx. */
async function pushCount(deps: RouterDeps): Promise<number> {
  let sum = 0;
  for (
    const { labels, value } of (await deps.metrics.pushRequests.get()).values
  ) {
    const route = String(labels.route ?? "");
    if (
      String(labels.status ?? "").startsWith("2") &&
      (route.endsWith("/push") || route.endsWith("/broadcast"))
    ) sum += value;
  }
  return sum;
}

/** The last path segment, percent-decoded from the raw URL. */
function lastSegment(c: Context, name: string): string {
  return segment(c, -1, name);
}

/**
 * A path segment decoded from the raw URL: hono keeps a malformed escape
 * like `%E2%82` as literal text, which would silently name something else.
 */
function segment(c: Context, at: number, name: string): string {
  const raw = new URL(c.req.url).pathname.split("/").at(at) ?? "";
  try {
    return decodeURIComponent(raw);
  } catch (error) {
    throw new BadRequestError(`${name}: must be percent-encoded UTF-8`, {
      cause: error,
    });
  }
}
