// Start-up, sign-in, the organization and project pickers, routing and the live connection.

import { ApiError, gql, request, session } from "./api.js";
import { h, replace } from "./dom.js";
import { Live } from "./live.js";
import { recordView } from "./record.js";
import { listView, RECORD_FIELDS } from "./records.js";

const $ = (id) => document.getElementById(id);
const view = $("view");
const state = { role: "agent", canUpload: false, live: null, handlers: {}, refresh: () => route() };

const LOGIN = "mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }";
const ALERT_FIELDS = "id recordId agentName field operator value threshold createdAt";

function signInView(message) {
  const error = h("p", { class: "error", id: "sign-in-error" }, message || "");
  const email = h("input", { name: "email", type: "email", required: true, autocomplete: "username" });
  const password = h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" });
  const token = h("input", { name: "token", required: true, placeholder: "aica_pt_..." });
  const start = async (e, obtain) => {
    e.preventDefault();
    try {
      session.clear();
      session.token = await obtain();
      session.save();
      await boot();
    } catch (err) {
      error.textContent = err.message;
    }
  };
  replace(
    view,
    h(
      "div",
      { class: "grid" },
      h(
        "form",
        { class: "card stack", id: "sign-in", onsubmit: (e) => start(e, async () => (await gql(LOGIN, { email: email.value, password: password.value })).login.token) },
        h("h2", {}, "Sign in"),
        h("label", {}, "Email", email),
        h("label", {}, "Password", password),
        h("button", { type: "submit", class: "primary" }, "Sign in"),
      ),
      h(
        "form",
        { class: "card stack", id: "token-form", onsubmit: (e) => start(e, async () => token.value.trim().replace(/^Bearer\s+/i, "")) },
        h("h2", {}, "Or paste a token"),
        h("label", {}, "API token", token),
        h("button", { type: "submit" }, "Use token"),
      ),
    ),
    error,
  );
  for (const id of ["org-picker", "project-picker", "connection", "sign-out"]) $(id).hidden = true;
  $("whoami").textContent = "";
}

function fillPicker(select, items, selected) {
  replace(select, items.map((item) => h("option", { value: item.id, selected: item.id === selected }, item.name)));
  return items.some((item) => item.id === selected) ? selected : items[0]?.id ?? null;
}

/** What the caller may do here, asked of the API (agents cannot list members). */
async function learnRole() {
  const [members, upload] = await Promise.all([
    request("{ users(pageSize: 1) { total } }"),
    request("{ canUploadRecordings }"),
  ]);
  state.canUpload = upload.data?.canUploadRecordings === true;
  state.role = state.canUpload ? "admin" : members.data ? "supervisor" : "agent";
  $("whoami").textContent = state.role === "admin" ? "admin" : state.role;
  document.body.dataset.role = state.role;
}

function showConnection(value, detail) {
  const badge = $("connection");
  badge.hidden = false;
  badge.dataset.state = value;
  badge.textContent = {
    connecting: "connecting…",
    online: "live",
    offline: `offline, retrying in ${detail} s`,
    refused: `refused: ${detail}`,
  }[value];
}

function flashAlert(firing) {
  const text = `Alert: ${firing.agentName || "a call"} ${firing.field} ${firing.operator} ${JSON.stringify(firing.threshold)} (was ${JSON.stringify(firing.value)})`;
  const card = h("div", { class: "alert", role: "alert", onclick: () => (location.hash = `#/records/${firing.recordId}`) }, text);
  $("alerts").prepend(card);
  setTimeout(() => card.remove(), 15000);
  state.handlers.alert?.(firing);
}

function goLive() {
  state.live?.close();
  state.live = new Live({
    token: session.token,
    orgId: session.orgId,
    onState: showConnection,
    onReconnect: () => state.handlers.reconnected?.(),
  });
  const p = { projectId: session.projectId };
  state.live.subscribe(`subscription ($projectId: ID!) { recordUpdated(projectId: $projectId) { ${RECORD_FIELDS} } }`, p, (d) =>
    state.handlers.updated?.(d.recordUpdated),
  );
  state.live.subscribe(`subscription ($projectId: ID!) { recordCompleted(projectId: $projectId) { ${RECORD_FIELDS} } }`, p, (d) =>
    state.handlers.completed?.(d.recordCompleted),
  );
  if (state.role !== "agent") {
    state.live.subscribe(`subscription ($projectId: ID!) { alertTriggered(projectId: $projectId) { ${ALERT_FIELDS} } }`, p, (d) =>
      flashAlert(d.alertTriggered),
    );
  }
}

async function route() {
  if (!session.token || !session.projectId) return;
  state.handlers = {};
  const match = location.hash.match(/^#\/records\/(.+)$/);
  try {
    const id = match && decodeURIComponent(match[1]);
    state.handlers = await (id ? recordView(view, state, id) : listView(view, state));
  } catch (err) {
    if (err instanceof ApiError && err.code === "UNAUTHENTICATED") return signInView(err.message);
    replace(view, h("p", { class: "error" }, err.message));
  }
}

async function chooseProject() {
  const { projects } = await gql("{ projects(pageSize: 100) { items { id name } } }");
  $("project-picker").hidden = false;
  session.projectId = fillPicker($("project"), projects.items, session.projectId);
  session.save();
  if (!session.projectId) {
    replace(view, h("p", {}, "This organization has no projects yet."));
    return;
  }
  goLive();
  await route();
}

async function chooseOrg() {
  await learnRole();
  await chooseProject();
}

async function boot() {
  if (!session.token) return signInView();
  let orgs;
  try {
    orgs = (await gql("{ orgs { id name } }")).orgs;
  } catch (err) {
    session.clear();
    return signInView(err.message);
  }
  $("sign-out").hidden = false;
  $("org-picker").hidden = false;
  session.orgId = fillPicker($("org"), orgs, session.orgId);
  session.save();
  if (!session.orgId) return replace(view, h("p", {}, "You belong to no organization."));
  await chooseOrg();
}

$("org").addEventListener("change", async (e) => {
  session.orgId = e.target.value;
  session.projectId = null;
  session.save();
  await chooseOrg();
});
$("project").addEventListener("change", async (e) => {
  session.projectId = e.target.value;
  session.save();
  goLive();
  if (location.hash.startsWith("#/records/")) location.hash = "#/"; // hashchange routes
  else await route();
});
$("sign-out").addEventListener("click", () => {
  state.live?.close();
  state.live = null;
  session.clear();
  signInView();
});
window.addEventListener("hashchange", route);
window.addEventListener("offline", () => showConnection("offline", "…"));

session.load();
boot();
