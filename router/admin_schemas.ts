/**
 * zod schemas of the admin endpoints the operator console calls
 * (router/routes/admin.ts); `openapi_admin.ts` describes them from the same
 * schemas, with the examples below.
 *
 * @module
 */
import { z } from "zod";

/** Reachability of one backend, as the router that answers sees it. */
export const BackendState = z.object({
  reachable: z.boolean(),
  ms: z.number().min(0).meta({
    description: "How long the ping took (or until it was given up)",
  }),
  error: z.string().optional().meta({
    description:
      "Why it is unreachable, in the backend's own words as the router logs them (admin keys only): may name hosts and ports, never a login",
  }),
});
export type BackendState = z.infer<typeof BackendState>;

/** Answer of `GET /v1/admin/cluster`. */
export const ClusterResponse = z.object({
  at: z.int().min(0).meta({ description: "The router's clock, ms" }),
  router: z.object({
    id: z.string().meta({
      description:
        "Random id of this router process; behind a balancer, answers come from several",
    }),
    version: z.string(),
    startedAt: z.int().min(0),
    pushes: z.int().min(0).meta({
      description:
        "Push and broadcast requests this router answered with 2xx since it started",
    }),
    routeCache: z.object({
      entries: z.int().min(0).meta({ description: "(user, node) pairs" }),
      nodes: z.int().min(0),
      ready: z.boolean(),
      lastEventAt: z.int().min(0).meta({
        description: "When the last registry event arrived, ms; 0 before any",
      }),
    }),
  }),
  registry: BackendState,
  history: BackendState,
});
export type ClusterResponse = z.infer<typeof ClusterResponse>;

/** One registry key of a user: the node holding it and what it records. */
export const UserKey = z.object({
  key: z.string().meta({ description: "The etcd key" }),
  nodeId: z.string(),
  lease: z.string().nullable().meta({
    description:
      "The lease of the node the key hangs on, as the node reports it; null when unknown or in memory",
  }),
  devices: z.array(z.object({
    connId: z.string(),
    connectedAt: z.int().min(0),
  })),
});

/** Answer of `GET /v1/admin/users/{user}`. */
export const UserRegistryResponse = z.object({
  user: z.string(),
  keys: z.array(UserKey).meta({
    description: "Read from the registry itself (etcd), by node id",
  }),
  routeCache: z.array(z.string()).meta({
    description:
      "Nodes this router's route cache names for the user; differs from keys only while an event is on its way",
  }),
});
export type UserRegistryResponse = z.infer<typeof UserRegistryResponse>;

/** Body of `POST /v1/admin/nodes/{node}/drain`; may be empty. */
export const DrainRequest = z.object({
  batch: z.int().min(1).max(100_000).optional().meta({
    description: "Clients closed per step; the node's default when absent",
  }),
  intervalMs: z.int().min(0).max(60_000).optional().meta({
    description: "Milliseconds between steps",
  }),
}).strict();
export type DrainRequest = z.infer<typeof DrainRequest>;

/** Answer of `POST /v1/admin/nodes/{node}/drain`. */
export const DrainResponse = z.object({
  nodeId: z.string(),
  draining: z.literal(true),
});

/** Examples of the admin bodies, by component name. */
export const ADMIN_EXAMPLES = {
  Cluster: {
    at: 1796200000000,
    router: {
      id: "5c1f09ab",
      version: "0.1.0",
      startedAt: 1796190000000,
      pushes: 18204,
      routeCache: {
        entries: 5120,
        nodes: 3,
        ready: true,
        lastEventAt: 1796199999500,
      },
    },
    registry: { reachable: true, ms: 1.4 },
    history: { reachable: false, ms: 2000, error: "ping: no answer" },
  },
  UserRegistry: {
    user: "alice",
    keys: [{
      key: "/wsgw/users/alice/gw-2",
      nodeId: "gw-2",
      lease: "7587893548137291522",
      devices: [{
        connId: "0b9a4c1e-7d2f-4e8a-9f00-1c2d3e4f5a6b",
        connectedAt: 1796199000000,
      }],
    }],
    routeCache: ["gw-2"],
  },
  DrainRequest: { batch: 100, intervalMs: 500 },
  Drain: { nodeId: "gw-2", draining: true },
} as const;
