// The project page: calls arriving and progressing live, uploads, charts and agents.

import { gql, session, uploadRecord } from "./api.js";
import { scoreChart, volumeChart } from "./charts.js";
import { clock, h, replace, scoreCell } from "./dom.js";

export const RECORD_FIELDS =
  "id fileName status progress stage error qualityScore agentName duration createdAt";

const LIST = `query ($projectId: ID!) {
  records(projectId: $projectId, pageSize: 50) { total items { ${RECORD_FIELDS} } }
}`;
const ONE = `query ($id: ID!) { record(id: $id) { ${RECORD_FIELDS} } }`;
const STATS = `query ($projectId: ID!) {
  projectStats(projectId: $projectId) {
    id totalRecords completedRecords failedRecords averageQualityScore complianceFailureRate
    daily { date records averageQualityScore }
    agents { agentName records averageQualityScore averageDuration }
  }
}`;
const DELETE = "mutation ($id: ID!) { deleteRecord(id: $id) { id } }";

function statusCell(record) {
  if (record.status === "completed") return "completed";
  if (record.status === "failed") {
    return h("span", { class: "status-failed", title: record.error || "" }, "failed");
  }
  return [h("progress", { max: 100, value: record.progress }), ` ${record.stage || record.status}`];
}

export async function listView(view, state) {
  const rows = new Map();
  const tbody = h("tbody");
  const stats = h("div", { class: "grid" });
  const admin = state.role === "admin";

  function render(record) {
    return h(
      "tr",
      {
        "data-record-id": record.id,
        "data-status": record.status,
        onclick: () => (location.hash = `#/records/${encodeURIComponent(record.id)}`),
      },
      h("td", {}, new Date(record.createdAt).toLocaleString()),
      h("td", {}, record.fileName || record.id),
      h("td", {}, record.agentName || "–"),
      h("td", {}, clock(record.duration)),
      h("td", { class: "status" }, statusCell(record)),
      h("td", { class: "score-cell" }, scoreCell(record.qualityScore)),
      admin &&
        h("td", {}, h("button", { class: "danger", "data-admin": "delete", onclick: (e) => remove(e, record) }, "Delete")),
    );
  }

  function upsert(record, fresh = false) {
    const known = rows.get(record.id);
    const merged = { ...known?.record, ...record };
    const tr = render(merged);
    if (known) {
      tr.className = known.tr.className;
      known.tr.replaceWith(tr);
    } else {
      if (fresh) tr.classList.add("fresh");
      tbody.prepend(tr);
    }
    rows.set(record.id, { record: merged, tr });
  }

  async function remove(event, record) {
    event.stopPropagation();
    if (!confirm(`Delete ${record.fileName || record.id} and its audio?`)) return;
    await gql(DELETE, { id: record.id });
    rows.get(record.id)?.tr.remove();
    rows.delete(record.id);
  }

  async function load() {
    const data = await gql(LIST, { projectId: session.projectId });
    tbody.replaceChildren();
    rows.clear();
    for (const record of data.records.items.reverse()) upsert(record);
  }

  async function loadStats() {
    if (state.role === "agent") return; // project figures are for supervisors and up
    try {
      const { projectStats: s } = await gql(STATS, { projectId: session.projectId });
      replace(
        stats,
        h("div", { class: "card" }, h("h3", {}, "Quality score by day"), scoreChart(s.daily)),
        h("div", { class: "card" }, h("h3", {}, "Calls by day"), volumeChart(s.daily)),
        h(
          "div",
          { class: "card" },
          h("h3", {}, "Agents"),
          h(
            "p",
            { class: "muted" },
            `${s.totalRecords} calls, ${s.completedRecords} completed, ${s.failedRecords} failed; `,
            `average score ${s.averageQualityScore === null ? "–" : s.averageQualityScore.toFixed(1)}`,
          ),
          h(
            "table",
            { id: "agents" },
            h("thead", {}, h("tr", {}, h("th", {}, "Agent"), h("th", {}, "Calls"), h("th", {}, "Score"), h("th", {}, "Avg length"))),
            h(
              "tbody",
              {},
              s.agents.map((a) =>
                h("tr", {}, h("td", {}, a.agentName || "–"), h("td", {}, a.records), h("td", {}, scoreCell(a.averageQualityScore)), h("td", {}, clock(a.averageDuration))),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      replace(stats, h("p", { class: "muted" }, `No statistics: ${error.message}`));
    }
  }

  replace(
    view,
    state.canUpload && uploadCard(async (id) => upsert((await gql(ONE, { id })).record, true)),
    stats,
    h(
      "div",
      { class: "card" },
      h("h2", {}, "Calls"),
      h(
        "table",
        { id: "records" },
        h(
          "thead",
          {},
          h("tr", {}, ["Created", "File", "Agent", "Length", "Status", "Score"].map((t) => h("th", {}, t)), admin && h("th", {}, "")),
        ),
        tbody,
      ),
    ),
  );
  await Promise.all([load(), loadStats()]);

  return {
    updated: (record) => upsert(record, !rows.has(record.id)),
    completed: (record) => {
      upsert(record);
      loadStats();
    },
    alert: (firing) => rows.get(firing.recordId)?.tr.classList.add("alerted"),
    reconnected: () => Promise.all([load(), loadStats()]),
  };
}

function uploadCard(uploaded) {
  const list = h("div");
  const input = h("input", { type: "file", accept: "audio/*", multiple: true, onchange: () => send(input.files) });
  const zone = h(
    "div",
    {
      class: "dropzone",
      id: "dropzone",
      "data-admin": "upload",
      ondragover: (e) => {
        e.preventDefault();
        zone.classList.add("over");
      },
      ondragleave: () => zone.classList.remove("over"),
      ondrop: (e) => {
        e.preventDefault();
        zone.classList.remove("over");
        send(e.dataTransfer.files);
      },
    },
    "Drop recordings here, or ",
    input,
    list,
  );

  function send(files) {
    for (const file of files) {
      const bar = h("progress", { max: 100, value: 0 });
      const note = h("span", {}, "uploading");
      list.append(h("div", { class: "upload-row" }, file.name, bar, note));
      uploadRecord(session.projectId, file, (share) => (bar.value = share * 100))
        .then(async (record) => {
          bar.value = 100;
          note.textContent = "uploaded";
          await uploaded(record.id);
        })
        .catch((error) => {
          note.textContent = error.message;
          note.className = "error";
        });
    }
  }

  return h("div", { class: "card" }, h("h2", {}, "Upload"), zone);
}
