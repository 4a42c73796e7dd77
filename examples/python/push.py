"""Pushes a message to users through the wsgw push API, standard library only.

    python3 push.py alice,bob '{"text": "hello"}' [id]

WSGW_URL is the router (or `deno task start`), default http://127.0.0.1:8080;
WSGW_API_KEY a key with the push scope, default the development key.
"""
import json
import os
import sys
import urllib.error
import urllib.request


class PushError(Exception):
    """The API refused: `status` and the stable `code` of its JSON error."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


def _call(path, body, env=os.environ):
    base = env.get("WSGW_URL", "http://127.0.0.1:8080").rstrip("/")
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "authorization": "Bearer " + env.get("WSGW_API_KEY", "dev-api-key"),
            "content-type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        # Every error is {"error": {"code", "message"}}; 429 and 503 may be retried.
        detail = json.load(error).get("error", {})
        raise PushError(error.code, detail.get("code"), detail.get("message")) from None


def push(users, data, id=None, env=os.environ):
    """Stores `data` in each user's history and hands it to every connection
    they have; returns the answer ({"id", "results": [{"user", "seq",
    "devices"}]}). Give `id` to make a retry safe: it is delivered once."""
    body = {"users": users, "data": data}
    if id is not None:
        body["id"] = id
    return _call("/v1/push", body, env)


def broadcast(data, id=None, env=os.environ):
    """Sends `data` to every open connection (live only, no history)."""
    body = {"data": data}
    if id is not None:
        body["id"] = id
    return _call("/v1/broadcast", body, env)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python3 push.py <user[,user...]> <json data> [id]")
    answer = push(sys.argv[1].split(","), json.loads(sys.argv[2]),
                  sys.argv[3] if len(sys.argv) > 3 else None)
    print(json.dumps(answer))
