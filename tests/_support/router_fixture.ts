/**
 * An in-process router for unit tests: memory registry and history, a route
 * cache following the registry, and {@link FakeNode}s standing in for gateway
 * nodes, each recording the calls it gets.
 *
 * @module
 */
import type { Hono } from "hono";
import { type Config, loadConfig } from "../../shared/config.ts";
import { MemoryHistory } from "../../shared/history/mod.ts";
import type { History } from "../../shared/history/mod.ts";
import { createLogger } from "../../shared/log.ts";
import { createMetricsRegistry, type prom } from "../../shared/metrics.ts";
import type {
  BroadcastRequest,
  BroadcastResult,
  CatchUpRequest,
  CatchUpResult,
  DeliverRequest,
  DeliverResult,
  DeviceInfo,
  KickRequest,
  KickResult,
  NodeApi,
  NodeStats,
} from "../../shared/node_api.ts";
import {
  MemoryRegistry,
  MemoryRegistryStore,
  type NodeMembership,
} from "../../shared/registry/mod.ts";
import {
  createRouterApp,
  type RouterDeps,
  type RouterEnv,
} from "../../router/app.ts";
import { createRouterMetrics } from "../../router/metrics.ts";
import type { NodeClient } from "../../router/node_client.ts";
import { RouteCache } from "../../router/route_cache.ts";
import { waitFor } from "./until.ts";

/** The API key fixtures accept. */
export const API_KEY = "test-key";

/** A gateway node double: holds fake connections and records every call. */
export class FakeNode implements NodeApi {
  readonly nodeId: string;
  readonly membership: NodeMembership;
  readonly delivered: DeliverRequest[] = [];
  readonly broadcasts: BroadcastRequest[] = [];
  readonly presenceAsked: string[] = [];
  readonly kicks: KickRequest[] = [];
  /** Users of every catch-up asked of this node, in order. */
  readonly catchUps: string[][] = [];
  /** Connections by user. */
  readonly connections = new Map<string, DeviceInfo[]>();
  /** When set, every call rejects with it. */
  failWith: Error | undefined;
  /** When set, every call waits for it first. */
  gate: Promise<void> | undefined;
  /** Calls that have started, gated or not. */
  entered = 0;
  #nextConn = 0;

  constructor(nodeId: string, membership: NodeMembership) {
    this.nodeId = nodeId;
    this.membership = membership;
  }

  /** Adds a connection of `user` and registers the user on this node. */
  async connect(
    user: string,
    device: string | null = null,
    connectedAt = Date.now(),
  ): Promise<void> {
    const list = this.connections.get(user) ?? [];
    list.push({
      connId: `${this.nodeId}-c${++this.#nextConn}`,
      nodeId: this.nodeId,
      device,
      connectedAt,
      remoteAddress: "203.0.113.7",
    });
    this.connections.set(user, list);
    await this.membership.register(
      user,
      list.map(({ connId, connectedAt }) => ({ connId, connectedAt })),
    );
  }

  async deliver(request: DeliverRequest): Promise<DeliverResult> {
    await this.#enter();
    this.delivered.push(request);
    const devices: Record<string, number> = {};
    for (const { user } of request.targets) {
      devices[user] = this.#matching(user, request.device).length;
    }
    return { devices };
  }

  async broadcast(request: BroadcastRequest): Promise<BroadcastResult> {
    await this.#enter();
    this.broadcasts.push(request);
    let devices = 0;
    for (const list of this.connections.values()) devices += list.length;
    return { devices };
  }

  async presence(user: string): Promise<DeviceInfo[]> {
    await this.#enter();
    this.presenceAsked.push(user);
    return [...(this.connections.get(user) ?? [])];
  }

  async catchUp(request: CatchUpRequest): Promise<CatchUpResult> {
    await this.#enter();
    this.catchUps.push([...request.users]);
    return {
      sessions: request.users.reduce(
        (sum, user) => sum + (this.connections.get(user)?.length ?? 0),
        0,
      ),
    };
  }

  async kick(request: KickRequest): Promise<KickResult> {
    await this.#enter();
    this.kicks.push(request);
    const closing = this.#matching(request.user, request.device).filter((d) =>
      request.connId === undefined || d.connId === request.connId
    );
    const rest = (this.connections.get(request.user) ?? []).filter((d) =>
      !closing.includes(d)
    );
    if (rest.length === 0) this.connections.delete(request.user);
    else this.connections.set(request.user, rest);
    return { closed: closing.length };
  }

  async stats(): Promise<NodeStats> {
    await this.#enter();
    let connections = 0;
    for (const list of this.connections.values()) connections += list.length;
    return {
      nodeId: this.nodeId,
      connections,
      users: this.connections.size,
      draining: false,
      startedAt: 1,
    };
  }

  #matching(user: string, device: string | undefined): DeviceInfo[] {
    return (this.connections.get(user) ?? []).filter((d) =>
      device === undefined || d.device === device
    );
  }

  async #enter(): Promise<void> {
    this.entered += 1;
    await this.gate;
    if (this.failWith) throw this.failWith;
  }
}

/** `base` with some methods replaced, e.g. to make one operation fail. */
export function historyWith(
  base: History,
  overrides: Partial<History>,
): History {
  return {
    append: (users, message) => base.append(users, message),
    read: (user, after, limit) => base.read(user, after, limit),
    reserve: (id) => base.reserve(id),
    complete: (id, answer) => base.complete(id, answer),
    release: (id) => base.release(id),
    ping: () => base.ping(),
    [Symbol.asyncDispose]: () => base[Symbol.asyncDispose](),
    ...overrides,
  };
}

/** Options of {@link routerFixture}. */
export type FixtureOptions = {
  env?: Record<string, string>;
  history?: History;
  /** Replaces parts of the deps (after the defaults are built). */
  override?: Partial<RouterDeps>;
};

/** What {@link routerFixture} gives a test. */
export type RouterFixture = AsyncDisposable & {
  app: Hono<RouterEnv>;
  config: Config;
  deps: RouterDeps;
  store: MemoryRegistryStore;
  registry: MemoryRegistry;
  history: History;
  routes: RouteCache;
  /** Every log event, parsed. */
  logs: Record<string, unknown>[];
  fakes: Map<string, FakeNode>;
  metricsRegistry: prom.Registry;
  /** A request with the API key and, with `json`, a JSON body (POST). */
  request(
    path: string,
    init?: RequestInit & { json?: unknown },
  ): Promise<Response>;
  /** Joins a node to the registry and waits until the route cache has it. */
  addNode(nodeId: string): Promise<FakeNode>;
  /** Connects `user` on `node` and waits until the route cache knows. */
  connect(
    node: FakeNode,
    user: string,
    device?: string | null,
    connectedAt?: number,
  ): Promise<void>;
};

/** A router app on memory backends, with helpers to add nodes. */
export async function routerFixture(
  options: FixtureOptions = {},
): Promise<RouterFixture> {
  const { config } = loadConfig({
    WSGW_API_KEYS: `other-key,${API_KEY}`,
    WSGW_JWT_SECRET: "jwt",
    WSGW_MAX_BODY_BYTES: "65536",
    WSGW_MAX_MESSAGE_BYTES: "1024",
    ...options.env,
  }, "embedded");
  const store = new MemoryRegistryStore();
  const registry = new MemoryRegistry(store);
  const history = options.history ?? new MemoryHistory({ size: 100, ttl: 60 });
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({
    level: "debug",
    write: (line) => logs.push(JSON.parse(line)),
  });
  const fakes = new Map<string, FakeNode>();
  const nodes: NodeClient = {
    for(node) {
      const fake = fakes.get(node.nodeId);
      if (!fake) throw new Error(`no fake node ${node.nodeId}`);
      return fake;
    },
  };
  const routes = new RouteCache({ registry, log });
  routes.start();
  await routes.ready;
  const metricsRegistry: prom.Registry = createMetricsRegistry();
  const metrics = createRouterMetrics(metricsRegistry, {
    routeCacheEntries: () => routes.size,
    liveNodes: () => routes.nodes().map((node) => node.nodeId),
  });
  const deps: RouterDeps = {
    config,
    registry,
    history,
    nodes,
    routes,
    log,
    metrics,
    metricsRegistries: [metricsRegistry],
    ...options.override,
  };
  const app = createRouterApp(deps);

  const request = (
    path: string,
    init: RequestInit & { json?: unknown } = {},
  ): Promise<Response> => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (!headers.has("authorization")) {
      headers.set("authorization", `Bearer ${API_KEY}`);
    }
    return Promise.resolve(app.request(path, {
      method: json === undefined ? "GET" : "POST",
      ...rest,
      headers,
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    }));
  };

  return {
    app,
    config,
    deps,
    store,
    registry,
    history,
    routes,
    logs,
    fakes,
    metricsRegistry,
    request,
    async addNode(nodeId: string): Promise<FakeNode> {
      const membership = await registry.join({
        nodeId,
        url: `http://${nodeId}.test`,
        internalUrl: `http://${nodeId}.internal`,
        startedAt: 1,
        draining: false,
      });
      const fake = new FakeNode(nodeId, membership);
      fakes.set(nodeId, fake);
      await waitFor(() => routes.node(nodeId), { what: `node ${nodeId}` });
      return fake;
    },
    async connect(
      node: FakeNode,
      user: string,
      device: string | null = null,
      connectedAt?: number,
    ): Promise<void> {
      await node.connect(user, device, connectedAt);
      await waitFor(() => routes.owners(user).includes(node.nodeId), {
        what: `${user} on ${node.nodeId}`,
      });
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await routes[Symbol.asyncDispose]();
    },
  };
}
