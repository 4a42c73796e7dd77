import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { z } from "zod";
import { loadConfig } from "../../shared/config.ts";
import { buildOpenApiDocument } from "../../router/openapi.ts";
import { EXAMPLES } from "../../router/openapi_examples.ts";
import * as schemas from "../../router/schemas.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;

function documentFor(env: Record<string, string> = {}): Doc {
  return buildOpenApiDocument(loadConfig(env, "embedded").config);
}

Deno.test("openapi - the document is valid OpenAPI 3.1", async () => {
  const result = await new Validator().validate(documentFor());
  assert.deepEqual(result, { valid: true });
  assert.equal(documentFor().openapi, "3.1.0");
});

Deno.test("openapi - limits come from the running config", () => {
  const doc = documentFor({
    WSGW_MAX_PUSH_USERS: "250",
    WSGW_MAX_MESSAGE_BYTES: "2048",
    WSGW_MAX_BODY_BYTES: "65536",
    WSGW_HISTORY_SIZE: "50",
  });
  const push = doc.components.schemas.PushRequest;
  assert.equal(push.properties.users.maxItems, 250);
  assert.match(push.properties.data.description, /at most 2048 bytes/);
  assert.match(
    doc.paths["/v1/push"].post.responses["400"].description,
    /more than 250 users/,
  );
  assert.match(
    doc.paths["/v1/push"].post.responses["413"].description,
    /over 65536 bytes/,
  );
  const limit = doc.paths["/v1/users/{user}/messages"].get.parameters
    .find((p: Doc) => p.name === "limit");
  assert.equal(limit.schema.maximum, 50);
  assert.equal(
    documentFor().components.schemas.PushRequest.properties.users.maxItems,
    10000,
  );
});

Deno.test("openapi - every operation has a unique operationId and a declared tag", () => {
  const doc = documentFor();
  const declared = new Set(doc.tags.map((t: Doc) => t.name));
  const ids: string[] = [];
  for (const [path, item] of Object.entries<Doc>(doc.paths)) {
    for (const [method, op] of Object.entries<Doc>(item)) {
      assert.equal(typeof op.operationId, "string", `${method} ${path}`);
      ids.push(op.operationId);
      assert.ok(
        op.tags.length > 0 && op.tags.every((t: string) => declared.has(t)),
        `${method} ${path}`,
      );
    }
  }
  assert.equal(new Set(ids).size, ids.length, "operationIds are unique");
  assert.deepEqual(doc.servers.map((s: Doc) => s.url), ["/"]);
});

Deno.test("openapi - every example is accepted by the schema the API uses", () => {
  const byName: Record<keyof typeof EXAMPLES, z.ZodType> = {
    PushRequest: schemas.PushRequest,
    PushResponse: schemas.PushResponse,
    BroadcastRequest: schemas.BroadcastBody,
    BroadcastResponse: schemas.BroadcastResponse,
    PresenceResponse: schemas.PresenceResponse,
    DisconnectRequest: schemas.DisconnectRequest,
    DisconnectResponse: schemas.DisconnectResponse,
    MessagesResponse: schemas.MessagesResponse,
    Nodes: schemas.NodesResponse,
    Error: schemas.ErrorResponse,
  };
  for (const [name, schema] of Object.entries(byName)) {
    const example = EXAMPLES[name as keyof typeof EXAMPLES];
    const result = schema.safeParse(example);
    assert.ok(
      result.success,
      `${name}: ${JSON.stringify(result.error?.issues)}`,
    );
    // Strict: an example must not carry a field the schema does not know.
    assert.deepEqual(result.data, example, name);
  }
  const doc = documentFor();
  const media =
    doc.paths["/v1/push"].post.requestBody.content["application/json"];
  assert.deepEqual(media.example, EXAMPLES.PushRequest);
  assert.deepEqual(doc.components.schemas.PushResponse.examples, [
    EXAMPLES.PushResponse,
  ]);
});
