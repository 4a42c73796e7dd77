// The wsgw operator console. Plain browser JavaScript modules, no build
// step, served by the router at /console under a Content-Security-Policy
// that lets the page talk to its own origin only. The API key is held by
// api.js in memory; everything from the cluster is shown as text (dom.js).

import { api, hasKey, setKey } from "./api.js";
import { sample, showCluster } from "./cluster.js";
import { $, setOutcome, setStatus } from "./dom.js";
import { currentUser, disconnect, lookUp, push } from "./user.js";

/** How often the cluster view refreshes. */
const REFRESH_MS = 1000;

let timer = 0;

async function refresh() {
  try {
    const [cluster, nodes] = await Promise.all([
      api("GET", "/v1/admin/cluster"),
      api("GET", "/v1/nodes"),
    ]);
    showCluster(cluster, nodes);
    sample(cluster, nodes);
    setStatus(
      `Connected to router ${cluster.router.id} (${cluster.router.version}).`,
    );
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      lock(`The key was refused: ${error.message}`);
      return;
    }
    setStatus(`Refresh failed: ${error.message}`, true);
  }
  if (hasKey()) timer = setTimeout(refresh, REFRESH_MS);
}

// ---- the key ----

function lock(message) {
  setKey("");
  clearTimeout(timer);
  $("main").hidden = true;
  $("lock").hidden = true;
  $("key-form").hidden = false;
  setStatus(message, message.startsWith("The key"));
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setKey($("key").value.trim());
  $("key").value = "";
  $("key-form").hidden = true;
  $("lock").hidden = false;
  $("main").hidden = false;
  setStatus("Connecting…");
  clearTimeout(timer);
  refresh();
});
$("lock").addEventListener(
  "click",
  () => lock("Key forgotten. Enter it again to continue."),
);
$("user-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const user = $("user-id").value;
  setOutcome("");
  if (user) lookUp(user);
});
$("push-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (currentUser !== undefined) push(currentUser);
});
$("disconnect-user").addEventListener("click", () => {
  if (currentUser !== undefined) disconnect(currentUser);
});
