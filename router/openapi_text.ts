/**
 * The prose of `/openapi.json`: the API's description and the texts that
 * state this deployment's limits.
 *
 * @module
 */
import type { OpenApiLimits } from "./openapi.ts";

/** What every client of the push API should know first. */
export const DESCRIPTION = `Push API of wsgw, a distributed WebSocket gateway.

Every /v1 route needs \`Authorization: Bearer <api key>\` (401 without, 403 with a wrong key).
A key's scope (\`WSGW_API_KEYS=key:push|broadcast|admin\`, a bare key is admin) decides its routes:
push for push, presence and messages; broadcast also for broadcast; admin for everything,
disconnect and nodes included. Too little scope is 403 \`insufficient_scope\`.
Errors answer \`{"error": {"code", "message"}}\`; a validation message names the bad field.

Pushes are stored in each user's history before delivery, so an offline user
gets them on the next connect (with \`since\`). When the history is unavailable
a push is still delivered live, without seq: its answer says
\`"stored": false\` and each result's \`seq\` is null; nobody can replay it
later, and its id is remembered by the router replica that took it only.
When it is unavailable for some users only (a Redis Cluster master down),
\`"stored"\` is false too, and each result says which: users with a \`seq\`
were stored and got it with that seq, users whose \`seq\` is null got it
live only. A
gateway node that fails to
answer (after one retry) does not fail the request: its connections count 0
and its id is listed in \`unreachable\`, which is present only when non-empty.

\`id\` makes a push or broadcast idempotent for the history TTL: the same id
again answers the first answer unchanged and delivers nothing, whatever the
new body says. While the first request is still running, a second waits up
to 5 s for its answer, then gets 409 \`push_in_progress\`. Push and broadcast
ids are separate namespaces.`;

/** The description of each error status, with the configured limits. */
export function errorDescriptions(
  limits: OpenApiLimits,
): Record<number, string> {
  return {
    400:
      `Invalid JSON (\`invalid_json\`), schema (\`bad_request\`), or more than ${limits.maxPushUsers} users (WSGW_MAX_PUSH_USERS, \`too_many_users\`)`,
    401: "No bearer API key (`unauthorized`)",
    403:
      "Wrong API key (`forbidden`) or a key without the scope of the route (`insufficient_scope`)",
    404: "No live node of that id (`not_found`)",
    409: "The same id is still being pushed (`push_in_progress`)",
    413:
      `Body over ${limits.maxBodyBytes} bytes (WSGW_MAX_BODY_BYTES, \`payload_too_large\`), data over ${limits.maxMessageBytes} bytes (WSGW_MAX_MESSAGE_BYTES, \`message_too_large\`), or data × users over ${limits.maxPushBytes} bytes (WSGW_MAX_PUSH_BYTES, \`message_too_large\`)`,
    429:
      `The API key is over its budget on this router (\`rate_limited\`): ${limits.keyRequestRate} requests/s (WSGW_KEY_REQUEST_RATE) or ${limits.keyByteRate} bytes/s of data × users (WSGW_KEY_BYTE_RATE), bursts of twice that (0: no limit); \`Retry-After\` says when to try again`,
    503:
      "History backend unavailable (`history_unavailable`), or the registry or a node did not answer (`unavailable`)",
  };
}

/** The limits paragraph of the description. */
export function limitsText(limits: OpenApiLimits): string {
  return `

Limits of this deployment: at most ${limits.maxPushUsers} users per push
(WSGW_MAX_PUSH_USERS); \`data\` at most ${limits.maxMessageBytes} bytes of JSON
(WSGW_MAX_MESSAGE_BYTES); request bodies at most ${limits.maxBodyBytes} bytes
(WSGW_MAX_BODY_BYTES); the last ${limits.historySize} messages of a user are
kept (WSGW_HISTORY_SIZE) for ${limits.historyTtl} s after the last push
(WSGW_HISTORY_TTL), which is also how long a push id is remembered.`;
}
