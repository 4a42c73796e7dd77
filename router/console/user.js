// The user view: registry keys, devices and history of one user, and the
// push and disconnect actions.

import { api, userPath } from "./api.js";
import {
  $,
  button,
  cell,
  confirmAction,
  fillTable,
  setOutcome,
  time,
} from "./dom.js";

/** Messages shown at the tail of a user's history. */
const TAIL = 20;

/** The user shown, once one was looked up. */
export let currentUser;

export async function lookUp(user) {
  currentUser = user;
  try {
    const [keys, presence, head] = await Promise.all([
      api("GET", `/v1/admin/users/${encodeURIComponent(user)}`),
      api("GET", userPath(user, "/presence")),
      api("GET", userPath(user, "/messages?limit=1")),
    ]);
    const since = Math.max(0, head.seq - TAIL);
    const history = await api(
      "GET",
      userPath(user, `/messages?since=${since}&limit=${TAIL}`),
    );
    if (currentUser !== user) return; // another lookup started meanwhile
    showUser(user, keys, presence, history);
  } catch (error) {
    setOutcome(`Lookup of ${user} failed: ${error.message}`, true);
  }
}

function showUser(user, keys, presence, history) {
  $("user-result").hidden = false;
  $("user-name").textContent = user;
  fillTable(
    $("user-keys"),
    keys.keys.map((key) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(key.key),
        cell(key.nodeId),
        cell(key.lease ?? "–"),
        cell(key.devices.length, "num"),
      );
      return tr;
    }),
  );
  $("user-route-cache").textContent = keys.routeCache.length
    ? keys.routeCache.join(", ")
    : "no node (offline)";
  fillTable(
    $("user-devices"),
    presence.devices.map((device) => {
      const tr = document.createElement("tr");
      tr.dataset.conn = device.connId;
      tr.dataset.node = device.nodeId;
      tr.append(
        cell(device.nodeId, "node"),
        cell(device.device ?? "(none)", "device"),
        cell(device.connId),
        cell(time(device.connectedAt)),
        cell(device.remoteAddress ?? "unknown"),
      );
      const actions = document.createElement("td");
      actions.append(button(
        "Disconnect…",
        () => disconnect(user, device),
        "disconnect-device",
      ));
      tr.append(actions);
      return tr;
    }),
  );
  if (presence.unreachable?.length) {
    setOutcome(
      `Nodes that did not answer: ${presence.unreachable.join(", ")}`,
      true,
    );
  }
  $("user-epoch").textContent = history.epoch;
  $("user-seq").textContent = String(history.seq);
  fillTable(
    $("user-messages"),
    history.messages.slice().reverse().map((m) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(m.seq, "num"),
        cell(m.id),
        cell(time(m.ts)),
        cell(m.device ?? ""),
        cell(JSON.stringify(m.data), "data"),
      );
      return tr;
    }),
  );
}

export async function push(user) {
  let data;
  try {
    data = JSON.parse($("push-data").value);
  } catch (error) {
    setOutcome(`The test message is not JSON: ${error.message}`, true);
    return;
  }
  if (
    !await confirmAction(
      `Push this message to ${user}?\n${JSON.stringify(data)}`,
    )
  ) return;
  try {
    const answer = await api("POST", "/v1/push", { users: [user], data });
    const result = answer.results[0];
    setOutcome(
      `Pushed ${answer.id} to ${user}: seq ${
        result.seq ?? "none (not stored)"
      }, ${result.devices} device(s) reached` +
        (answer.unreachable?.length
          ? `; unreachable: ${answer.unreachable.join(", ")}`
          : ""),
    );
  } catch (error) {
    setOutcome(`Push failed: ${error.message}`, true);
  }
  await lookUp(user);
}

export async function disconnect(user, device) {
  const what = device
    ? `connection ${device.connId} (device ${
      device.device ?? "(none)"
    } on ${device.nodeId}) of ${user}`
    : `every connection of ${user}`;
  if (
    !await confirmAction(
      `Close ${what} with 4003 (disconnected, no reconnect)?`,
    )
  ) return;
  try {
    const answer = await api(
      "POST",
      userPath(user, "/disconnect"),
      device ? { connId: device.connId } : {},
    );
    setOutcome(`Closed ${answer.closed} connection(s) of ${user}.`);
  } catch (error) {
    setOutcome(`Disconnect failed: ${error.message}`, true);
  }
  await lookUp(user);
}
