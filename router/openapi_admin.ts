/**
 * The admin endpoints' part of `/openapi.json` (router/openapi.ts), from the
 * zod schemas of `admin_schemas.ts`, so the description and the validation
 * cannot drift apart.
 *
 * @module
 */
import { z } from "zod";
import {
  ADMIN_EXAMPLES,
  ClusterResponse,
  DrainRequest,
  DrainResponse,
  UserRegistryResponse,
} from "./admin_schemas.ts";

/** What the main document lends: its error responses and its parts. */
export type AdminPathHelpers = {
  /** Component schemas of the document; the admin ones are added here. */
  schemas: Record<string, unknown>;
  /** The error responses of these status codes. */
  errors: (...codes: number[]) => Record<string, unknown>;
  secured: Record<string, unknown>;
  userParam: Record<string, unknown>;
};

/** The `/v1/admin/*` paths; adds their schemas to `helpers.schemas`. */
export function adminPaths(
  helpers: AdminPathHelpers,
): Record<string, unknown> {
  const { schemas, errors, secured } = helpers;
  const json = (
    name: keyof typeof ADMIN_EXAMPLES,
    schema: z.ZodType,
    io: "input" | "output",
  ) => {
    const { $schema: _, ...body } = z.toJSONSchema(schema, { io });
    schemas[name] = { ...body, examples: [ADMIN_EXAMPLES[name]] };
    return {
      content: {
        "application/json": {
          schema: { $ref: `#/components/schemas/${name}` },
          example: ADMIN_EXAMPLES[name],
        },
      },
    };
  };
  return {
    "/v1/admin/cluster": {
      get: {
        ...secured,
        operationId: "getCluster",
        tags: ["admin"],
        summary:
          "This router, its route cache, and whether etcd and Redis answer",
        responses: {
          "200": {
            description: "As the router that answered sees it",
            ...json("Cluster", ClusterResponse, "output"),
          },
          ...errors(401, 403, 429),
        },
      },
    },
    "/v1/admin/users/{user}": {
      get: {
        ...secured,
        operationId: "getUserRegistry",
        tags: ["admin"],
        summary: "A user's keys in the registry, with node and lease",
        parameters: [helpers.userParam],
        responses: {
          "200": {
            description: "The keys, and what the route cache says",
            ...json("UserRegistry", UserRegistryResponse, "output"),
          },
          ...errors(400, 401, 403, 429, 503),
        },
      },
    },
    "/v1/admin/nodes/{node}/drain": {
      post: {
        ...secured,
        operationId: "drainNode",
        tags: ["admin"],
        summary:
          "Drain a node: marked draining, its clients closed with 1012 in paced batches, then it leaves",
        parameters: [{
          name: "node",
          in: "path",
          required: true,
          description: "Node id, as `GET /v1/nodes` lists it",
          schema: { type: "string", minLength: 1, maxLength: 128 },
        }],
        requestBody: {
          required: false,
          ...json("DrainRequest", DrainRequest, "input"),
        },
        responses: {
          "202": {
            description:
              "The node took the request and drains; watch `GET /v1/nodes`",
            ...json("Drain", DrainResponse, "output"),
          },
          ...errors(400, 401, 403, 404, 413, 429, 503),
        },
      },
    },
  };
}
