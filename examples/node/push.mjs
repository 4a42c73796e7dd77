// Pushes a message to users through the wsgw push API, with nothing but fetch.
//
//   node push.mjs alice,bob '{"text":"hello"}' [id]
//
// WSGW_URL is the router (or `deno task start`), default http://127.0.0.1:8080;
// WSGW_API_KEY a key with the push scope, default the development key.

import { pathToFileURL } from "node:url";

/**
 * Stores `data` in each user's history and hands it to every connection they
 * have; returns the API's answer (`{id, results: [{user, seq, devices}]}`).
 * Give `id` to make a retry safe: the same id is delivered once.
 */
export async function push(users, data, options = {}) {
  return await call("/v1/push", { users, data, id: options.id }, options.env);
}

/** Sends `data` to every open connection (live only, no history). */
export async function broadcast(data, options = {}) {
  return await call("/v1/broadcast", { data, id: options.id }, options.env);
}

async function call(path, body, env = process.env) {
  const base = env.WSGW_URL ?? "http://127.0.0.1:8080";
  const response = await fetch(new URL(path, base), {
    method: "POST",
    headers: {
      authorization: `Bearer ${env.WSGW_API_KEY ?? "dev-api-key"}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    // Every error is {"error": {"code", "message"}}; 429 and 503 may be retried.
    const { code, message } = answer.error;
    throw new Error(`${path}: ${response.status} ${code}: ${message}`);
  }
  return answer;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [users, data, id] = process.argv.slice(2);
  if (!users || data === undefined) {
    console.error("usage: node push.mjs <user[,user...]> <json data> [id]");
    process.exit(2);
  }
  const answer = await push(users.split(","), JSON.parse(data), { id });
  console.log(JSON.stringify(answer));
}
