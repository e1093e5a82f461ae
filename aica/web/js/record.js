// One call: the conversation beside its audio, the score card with evidence, annotations and
// the QA review.

import { ApiError, gql } from "./api.js";
import { clock, h, replace, scoreCell } from "./dom.js";

const RECORD = `query ($id: ID!) {
  record(id: $id) {
    id fileName status error agentName duration qualityScore language createdAt
    analysis {
      id qualityScore complianceStatus summary improvements categories
      criteria { id key category passed score detail evidence { start end speaker text } }
      review { id status score comment createdAt }
      annotations { id text start end createdAt }
    }
  }
}`;
const TRANSCRIPT = `query ($id: ID!) {
  transcript(recordId: $id) { id segments { start end speaker text } }
}`;
const AUDIO_URL = "query ($id: ID!) { recordAudioUrl(id: $id) }";
const REVIEW = `mutation ($analysisId: ID!, $input: ReviewInput!) {
  submitReview(analysisId: $analysisId, input: $input) { id status score comment createdAt }
}`;
const ANNOTATE = `mutation ($analysisId: ID!, $input: AnnotationInput!) {
  addAnnotation(analysisId: $analysisId, input: $input) { id text start end createdAt }
}`;

async function optional(query, variables) {
  try {
    return await gql(query, variables);
  } catch (error) {
    if (error instanceof ApiError && error.code === "NOT_FOUND") return null;
    throw error;
  }
}

export async function recordView(view, state, id) {
  const [{ record }, transcript, audio] = await Promise.all([
    gql(RECORD, { id }),
    optional(TRANSCRIPT, { id }),
    optional(AUDIO_URL, { id }),
  ]);
  const player = h("audio", { controls: true, preload: "metadata", id: "player" });
  if (audio) linkAudio(player, id, audio.recordAudioUrl);
  const seek = (seconds) => {
    player.currentTime = seconds;
    player.play().catch(() => {}); // a browser may refuse to play before a gesture: seeking holds
  };
  const analysis = record.analysis;

  replace(
    view,
    h("p", {}, h("a", { href: "#/" }, "← Calls")),
    h(
      "div",
      { class: "card" },
      h("h2", {}, record.fileName || record.id),
      h(
        "p",
        { class: "muted" },
        `${record.agentName || "no agent"} · ${clock(record.duration)} · ${record.language || ""} · `,
        record.status,
        record.error ? ` (${record.error})` : "",
      ),
      audio ? player : h("p", { class: "muted" }, "No audio yet."),
      conversation(transcript?.transcript?.segments ?? [], player, seek),
    ),
    analysis && scoreCard(analysis, seek),
    analysis && annotations(analysis, state, player, seek),
    analysis && state.role !== "agent" && reviewForm(analysis),
  );
  // A call opened while it is processing fills in when it completes.
  const unfinished = record.status !== "completed" && record.status !== "failed";
  const ended = (r) => unfinished && r.id === id && (r.status === "completed" || r.status === "failed");
  return { updated: (r) => ended(r) && state.refresh() };
}

/** The link expires (15 minutes); a player left open asks for a fresh one where it was. */
function linkAudio(player, id, url) {
  let renewed = false;
  player.src = url;
  player.addEventListener("error", async () => {
    if (renewed) return;
    renewed = true;
    const at = player.currentTime;
    const fresh = await gql(AUDIO_URL, { id });
    player.src = fresh.recordAudioUrl;
    player.currentTime = at;
  });
  player.addEventListener("loadeddata", () => (renewed = false));
}

function conversation(segments, player, seek) {
  if (!segments.length) return h("p", { class: "muted" }, "No transcript yet.");
  const items = segments.map((s) =>
    h(
      "div",
      { class: `segment ${s.speaker}`, "data-start": s.start, "data-speaker": s.speaker, onclick: () => seek(s.start) },
      h("span", { class: "time" }, `${clock(s.start)} ${s.speaker}`),
      s.text,
    ),
  );
  player.addEventListener("timeupdate", () => {
    segments.forEach((s, i) => {
      const on = player.currentTime >= s.start && player.currentTime < s.end;
      items[i].classList.toggle("playing", on);
    });
  });
  return h("div", { class: "conversation", id: "conversation" }, items);
}

function scoreCard(analysis, seek) {
  const verdict = (c) => (c.passed === null ? "n/a" : c.passed ? "✓" : "✗");
  return h(
    "div",
    { class: "card", id: "scorecard" },
    h("h2", {}, "Score ", scoreCell(analysis.qualityScore)),
    h("p", { class: "muted" }, `Compliance: ${analysis.complianceStatus}`),
    h(
      "p",
      { id: "categories" },
      Object.entries(analysis.categories).map(([key, value], i) => [i ? " · " : "", `${key} `, scoreCell(value)]),
    ),
    h("p", {}, analysis.summary),
    analysis.improvements.length > 0 && h("ul", {}, analysis.improvements.map((t) => h("li", {}, t))),
    analysis.criteria.map((c) =>
      h(
        "div",
        { class: "criterion", "data-criterion": c.key },
        h("span", { class: "verdict" }, verdict(c)),
        h("strong", {}, c.key),
        h("span", { class: "muted" }, ` ${c.category} · ${c.detail}`),
        c.evidence.map((e) =>
          h("button", { class: "evidence", type: "button", "data-start": e.start, onclick: () => seek(e.start) }, `▶ ${clock(e.start)} ${e.speaker}: ${e.text}`),
        ),
      ),
    ),
  );
}

function annotations(analysis, state, player, seek) {
  const list = h("ul", { id: "annotations" });
  const show = (a) =>
    list.append(
      h("li", {}, a.start === null ? "" : h("button", { class: "evidence", type: "button", onclick: () => seek(a.start) }, clock(a.start)), " ", a.text),
    );
  analysis.annotations.forEach(show);
  const none = state.role === "agent" && !analysis.annotations.length;
  const text = h("input", { name: "text", required: true, placeholder: "Note at the current time" });
  const error = h("span", { class: "error" });
  const form =
    state.role !== "agent" &&
    h(
      "form",
      {
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            const input = { text: text.value, start: player.currentTime || null };
            show((await gql(ANNOTATE, { analysisId: analysis.id, input })).addAnnotation);
            text.value = "";
            error.textContent = "";
          } catch (err) {
            error.textContent = err.message;
          }
        },
      },
      text,
      " ",
      h("button", { type: "submit" }, "Annotate"),
      " ",
      error,
    );
  return h("div", { class: "card" }, h("h2", {}, "Annotations"), none ? h("p", { class: "muted" }, "None.") : list, form);
}

function reviewForm(analysis) {
  const current = h("p", { id: "current-review" });
  const showReview = (r) =>
    replace(current, r ? `Current review: ${r.status}${r.score === null ? "" : ` (${r.score})`} ${r.comment}` : "Not reviewed yet.");
  showReview(analysis.review);
  const status = h("select", { name: "status" }, h("option", { value: "approved" }, "approved"), h("option", { value: "needs_improvement" }, "needs improvement"));
  const score = h("input", { name: "score", type: "number", min: 0, max: 100, step: 1, placeholder: "keep the AI's" });
  const comment = h("textarea", { name: "comment", rows: 3 });
  const error = h("p", { class: "error" });
  const form = h(
    "form",
    {
      class: "stack",
      id: "review",
      onsubmit: async (e) => {
        e.preventDefault();
        const input = { status: status.value, comment: comment.value, score: score.value === "" ? null : Number(score.value) };
        try {
          showReview((await gql(REVIEW, { analysisId: analysis.id, input })).submitReview);
          error.textContent = "";
        } catch (err) {
          error.textContent = err.message;
        }
      },
    },
    h("label", {}, "Verdict", status),
    h("label", {}, "Score override", score),
    h("label", {}, "Comment", comment),
    h("button", { type: "submit", class: "primary" }, "Submit review"),
    error,
  );
  return h("div", { class: "card" }, h("h2", {}, "QA review"), current, form);
}
