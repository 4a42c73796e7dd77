// The console's one way to the push API: requests to this origin with the
// admin key, which lives in this module's variable only (no storage, cookie
// or URL) and is gone on reload.

let apiKey = "";

/** Keeps `key` for the next calls; an empty one forgets it. */
export function setKey(key) {
  apiKey = key;
}

/** True while a key is held. */
export const hasKey = () => apiKey !== "";

/** Calls the push API of this origin with the key; throws with the answer's message. */
export async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = new Error(
      json?.error
        ? `${response.status} ${json.error.code}: ${json.error.message}`
        : `${response.status} ${text.slice(0, 200)}`,
    );
    error.status = response.status;
    throw error;
  }
  return json;
}

/** A path under `/v1/users/{user}`, the id percent-encoded. */
export const userPath = (user, rest) =>
  `/v1/users/${encodeURIComponent(user)}${rest}`;
