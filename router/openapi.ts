/**
 * The OpenAPI 3.1 description served at `GET /openapi.json`, built from the
 * same zod schemas the routes validate with, so the two cannot drift apart.
 *
 * @module
 */
import { z } from "zod";
import {
  BroadcastRequest,
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

const DESCRIPTION = `Push API of wsgw, a distributed WebSocket gateway.

Every /v1 route needs \`Authorization: Bearer <api key>\` (401 without, 403 with a wrong key).
A key's scope (\`WSGW_API_KEYS=key:push|broadcast|admin\`, a bare key is admin) decides its routes:
push for push, presence and messages; broadcast also for broadcast; admin for everything,
disconnect and nodes included. Too little scope is 403 \`insufficient_scope\`.
Errors answer \`{"error": {"code", "message"}}\`; a validation message names the bad field.

Pushes are stored in each user's history before delivery, so an offline user
gets them on the next connect (with \`since\`). When the history is unavailable
a push is still delivered live, without seq: its answer says
\`"stored": false\` and each result's \`seq\` is null; nobody can replay it
later, and its id is remembered by the router replica that took it only. A
gateway node that fails to
answer (after one retry) does not fail the request: its connections count 0
and its id is listed in \`unreachable\`, which is present only when non-empty.

\`id\` makes a push or broadcast idempotent for the history TTL: the same id
again answers the first answer unchanged and delivers nothing, whatever the
new body says. While the first request is still running, a second waits up
to 5 s for its answer, then gets 409 \`push_in_progress\`. Push and broadcast
ids are separate namespaces.`;

/** Builds the OpenAPI document; call once and serve the result. */
export function buildOpenApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  const ref = (name: string, schema: z.ZodType, io: "input" | "output") => {
    const { $schema: _, ...json } = z.toJSONSchema(schema, { io });
    schemas[name] = json;
    return { $ref: `#/components/schemas/${name}` };
  };
  const json = (schema: unknown) => ({
    content: { "application/json": { schema } },
  });
  const error = ref("Error", ErrorResponse, "output");
  const errors = (...codes: number[]) =>
    Object.fromEntries(
      codes.map((code) => [String(code), {
        description: ERROR_DESCRIPTIONS[code] ?? "error",
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

  return {
    openapi: "3.1.0",
    info: { title: "wsgw push API", version: "1", description: DESCRIPTION },
    paths: {
      "/v1/push": {
        post: {
          ...secured,
          summary: "Push a message to users",
          requestBody: {
            required: true,
            ...json(ref("PushRequest", PushRequest, "input")),
          },
          responses: {
            "200": {
              description:
                "Stored and handed to the users' nodes (or, with `stored`: false, handed to them without being stored)",
              ...json(ref("PushResponse", PushResponse, "output")),
            },
            ...errors(400, 401, 403, 409, 413),
          },
        },
      },
      "/v1/broadcast": {
        post: {
          ...secured,
          summary: "Send a live-only message to every connection",
          requestBody: {
            required: true,
            ...json(ref("BroadcastRequest", BroadcastRequest, "input")),
          },
          responses: {
            "200": {
              description: "Handed to every live node",
              ...json(ref("BroadcastResponse", BroadcastResponse, "output")),
            },
            ...errors(400, 401, 403, 409, 413),
          },
        },
      },
      "/v1/users/{user}/presence": {
        get: {
          ...secured,
          summary: "Connections of a user across nodes",
          parameters: [userParam],
          responses: {
            "200": {
              description: "The user's connections, oldest first",
              ...json(ref("PresenceResponse", PresenceResponse, "output")),
            },
            ...errors(400, 401, 403),
          },
        },
      },
      "/v1/users/{user}/disconnect": {
        post: {
          ...secured,
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
            ...errors(400, 401, 403, 413),
          },
        },
      },
      "/v1/users/{user}/messages": {
        get: {
          ...secured,
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
                maximum: MAX_MESSAGES_LIMIT,
                default: DEFAULT_MESSAGES_LIMIT,
              },
            },
          ],
          responses: {
            "200": {
              description: "The user's epoch, latest seq and messages",
              ...json(ref("MessagesResponse", MessagesResponse, "output")),
            },
            ...errors(400, 401, 403, 503),
          },
        },
      },
      "/v1/nodes": {
        get: {
          ...secured,
          summary: "Live gateway nodes with their counts",
          responses: {
            "200": {
              description: "Every live node, sorted by id",
              ...json(ref("Nodes", NodesResponse, "output")),
            },
            ...errors(401, 403),
          },
        },
      },
      "/healthz": {
        get: {
          summary: "Liveness",
          responses: { "200": { description: '`{"status":"ok"}`' } },
        },
      },
      "/readyz": {
        get: {
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
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400:
    "Invalid JSON (`invalid_json`), schema (`bad_request`), or more users than WSGW_MAX_PUSH_USERS (`too_many_users`)",
  401: "No bearer API key (`unauthorized`)",
  403:
    "Wrong API key (`forbidden`) or a key without the scope of the route (`insufficient_scope`)",
  409: "The same id is still being pushed (`push_in_progress`)",
  413:
    "Body over the limit (`payload_too_large`) or data over WSGW_MAX_MESSAGE_BYTES (`message_too_large`)",
  503: "History backend unavailable (`history_unavailable`)",
};
