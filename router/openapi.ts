/**
 * The OpenAPI 3.1 description served at `GET /openapi.json`, built from the
 * same zod schemas the routes validate with, so the two cannot drift apart.
 *
 * @module
 */
import { z } from "zod";
import type { Config } from "../shared/config.ts";
import { adminPaths } from "./openapi_admin.ts";
import { EXAMPLES } from "./openapi_examples.ts";
import { DESCRIPTION, errorDescriptions, limitsText } from "./openapi_text.ts";
import {
  BroadcastBody,
  BroadcastResponse,
  DEFAULT_MESSAGES_LIMIT,
  DisconnectRequest,
  DisconnectResponse,
  ErrorResponse,
  MAX_MESSAGES_LIMIT,
  MessagesResponse,
  NodesResponse,
  PresenceResponse,
  PushRequest,
  PushResponse,
} from "./schemas.ts";

/** The settings the document states as limits. */
export type OpenApiLimits = Pick<
  Config,
  | "maxPushUsers"
  | "maxMessageBytes"
  | "maxBodyBytes"
  | "maxPushBytes"
  | "keyRequestRate"
  | "keyByteRate"
  | "historySize"
  | "historyTtl"
>;

/**
 * Builds the OpenAPI document for the limits of the running config; call once
 * and serve the result.
 */
export function buildOpenApiDocument(
  limits: OpenApiLimits,
): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  const ref = (
    name: keyof typeof EXAMPLES,
    schema: z.ZodType,
    io: "input" | "output",
  ) => {
    const { $schema: _, ...json } = z.toJSONSchema(schema, { io });
    schemas[name] = { ...json, examples: [EXAMPLES[name]] };
    return { ref: { $ref: `#/components/schemas/${name}` }, name };
  };
  const json = (
    { ref: schema, name }: { ref: unknown; name: keyof typeof EXAMPLES },
  ) => ({
    content: { "application/json": { schema, example: EXAMPLES[name] } },
  });
  const error = ref("Error", ErrorResponse, "output");
  const errorText = errorDescriptions(limits);
  const errors = (...codes: number[]) =>
    Object.fromEntries(
      codes.map((code) => [String(code), {
        description: errorText[code] ?? "error",
        ...json(error),
      }]),
    );
  const userParam = {
    name: "user",
    in: "path",
    required: true,
    description:
      "User id, percent-encoded as by encodeURIComponent (`a/b` → `a%2Fb`).",
    schema: { type: "string", minLength: 1, maxLength: 128 },
  };
  const secured = { security: [{ apiKey: [] }] };

  const pushRequest = ref("PushRequest", PushRequest, "input");
  const document = {
    openapi: "3.1.0",
    info: {
      title: "wsgw push API",
      version: "1",
      description: DESCRIPTION + limitsText(limits),
    },
    servers: [{
      url: "/",
      description:
        "The router (or embedded gateway) that served this document; its public port",
    }],
    tags: [
      { name: "push", description: "Send messages to users or everyone" },
      { name: "users", description: "Presence, history and disconnects" },
      { name: "cluster", description: "The gateway nodes" },
      {
        name: "admin",
        description: "What the operator console calls; admin scope",
      },
      { name: "health", description: "Probes and metrics; no API key" },
    ],
    paths: {
      "/v1/push": {
        post: {
          ...secured,
          operationId: "push",
          tags: ["push"],
          summary: "Push a message to users",
          requestBody: { required: true, ...json(pushRequest) },
          responses: {
            "200": {
              description:
                "Stored and handed to the users' nodes (or, with `stored`: false, handed to them without being stored for the users whose `seq` is null)",
              ...json(ref("PushResponse", PushResponse, "output")),
            },
            ...errors(400, 401, 403, 409, 413, 429),
          },
        },
      },
      "/v1/broadcast": {
        post: {
          ...secured,
          operationId: "broadcast",
          tags: ["push"],
          summary: "Send a live-only message to every connection",
          requestBody: {
            required: true,
            ...json(ref("BroadcastRequest", BroadcastBody, "input")),
          },
          responses: {
            "200": {
              description: "Handed to every live node",
              ...json(ref("BroadcastResponse", BroadcastResponse, "output")),
            },
            ...errors(400, 401, 403, 409, 413, 429),
          },
        },
      },
      "/v1/users/{user}/presence": {
        get: {
          ...secured,
          operationId: "getPresence",
          tags: ["users"],
          summary: "Connections of a user across nodes",
          parameters: [userParam],
          responses: {
            "200": {
              description: "The user's connections, oldest first",
              ...json(ref("PresenceResponse", PresenceResponse, "output")),
            },
            ...errors(400, 401, 403, 429),
          },
        },
      },
      "/v1/users/{user}/disconnect": {
        post: {
          ...secured,
          operationId: "disconnectUser",
          tags: ["users"],
          summary: "Close a user's connections (close code 4003)",
          parameters: [userParam],
          requestBody: {
            required: false,
            ...json(ref("DisconnectRequest", DisconnectRequest, "input")),
          },
          responses: {
            "200": {
              description: "Connections closed",
              ...json(ref("DisconnectResponse", DisconnectResponse, "output")),
            },
            ...errors(400, 401, 403, 413, 429),
          },
        },
      },
      "/v1/users/{user}/messages": {
        get: {
          ...secured,
          operationId: "getMessages",
          tags: ["users"],
          summary: "A user's retained history, oldest first",
          parameters: [
            userParam,
            {
              name: "since",
              in: "query",
              description: "Return messages with seq > since.",
              schema: { type: "integer", minimum: 0, default: 0 },
            },
            {
              name: "limit",
              in: "query",
              schema: {
                type: "integer",
                minimum: 1,
                maximum: Math.min(MAX_MESSAGES_LIMIT, limits.historySize),
                default: DEFAULT_MESSAGES_LIMIT,
              },
            },
          ],
          responses: {
            "200": {
              description: "The user's epoch, latest seq and messages",
              ...json(ref("MessagesResponse", MessagesResponse, "output")),
            },
            ...errors(400, 401, 403, 503, 429),
          },
        },
      },
      "/v1/nodes": {
        get: {
          ...secured,
          operationId: "listNodes",
          tags: ["cluster"],
          summary: "Live gateway nodes with their counts",
          responses: {
            "200": {
              description: "Every live node, sorted by id",
              ...json(ref("Nodes", NodesResponse, "output")),
            },
            ...errors(401, 403, 429),
          },
        },
      },
      ...adminPaths({ schemas, errors, secured, userParam }),
      "/healthz": {
        get: {
          operationId: "healthz",
          tags: ["health"],
          summary: "Liveness",
          responses: { "200": { description: '`{"status":"ok"}`' } },
        },
      },
      "/readyz": {
        get: {
          operationId: "readyz",
          tags: ["health"],
          summary: "Readiness: registry, history and route cache",
          responses: {
            "200": { description: "Ready" },
            "503": {
              description: "Not ready; the body names the failed checks",
            },
          },
        },
      },
      "/metrics": {
        get: {
          operationId: "metrics",
          tags: ["health"],
          summary: "Prometheus metrics",
          responses: { "200": { description: "Prometheus text format" } },
        },
      },
    },
    components: {
      schemas,
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "One of WSGW_API_KEYS",
        },
      },
    },
  };
  applyLimits(schemas, limits);
  return document;
}

/** The schema limits that come from the config rather than constants. */
function applyLimits(
  schemas: Record<string, unknown>,
  limits: OpenApiLimits,
): void {
  // deno-lint-ignore no-explicit-any
  const push = schemas.PushRequest as any;
  push.properties.users.maxItems = limits.maxPushUsers;
  push.properties.users.description +=
    ` At most ${limits.maxPushUsers} (WSGW_MAX_PUSH_USERS).`;
  for (const name of ["PushRequest", "BroadcastRequest"]) {
    // deno-lint-ignore no-explicit-any
    const data = (schemas[name] as any).properties.data;
    data.description = data.description.replace(
      "WSGW_MAX_MESSAGE_BYTES bytes",
      `${limits.maxMessageBytes} bytes (WSGW_MAX_MESSAGE_BYTES)`,
    );
  }
}
