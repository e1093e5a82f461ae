// Upload recordings to AICA and print each one as it finishes, scored.
//
//   npm ci
//   AICA_URL=http://127.0.0.1:8000 AICA_TOKEN=aica_pt_... AICA_ORG_ID=org_... \
//     node upload_and_follow.mjs proj_... call.wav [more.wav ...]
//
// It subscribes to recordFinished (completed or failed) before uploading, so no ending is
// missed, uploads each file with the GraphQL multipart request, prints one JSON line per
// record as it finishes and exits 0 when all completed, 1 when any failed.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const { AICA_URL, AICA_TOKEN, AICA_ORG_ID } = process.env;
const [projectId, ...files] = process.argv.slice(2);
if (!AICA_URL || !AICA_TOKEN || !AICA_ORG_ID || !projectId || files.length === 0) {
  console.error("usage: AICA_URL=... AICA_TOKEN=... AICA_ORG_ID=... node upload_and_follow.mjs PROJECT FILE...");
  process.exit(2);
}
const headers = { Authorization: `Bearer ${AICA_TOKEN}`, "X-Selected-Org-ID": AICA_ORG_ID };
const RECORD = "id fileName status error qualityScore analysis { complianceStatus summary }";

async function graphql(body) {
  const isForm = body instanceof FormData;
  const response = await fetch(`${AICA_URL}/graphql`, {
    method: "POST",
    headers: isForm ? headers : { ...headers, "Content-Type": "application/json" },
    body: isForm ? body : JSON.stringify(body),
  });
  const { data, errors } = await response.json();
  if (errors?.length) throw new Error(`${errors[0].extensions?.code}: ${errors[0].message}`);
  return data;
}

async function upload(path) {
  const query = "mutation ($input: UploadRecordInput!) { uploadRecord(input: $input) { id } }";
  const form = new FormData();
  form.append("operations", JSON.stringify({ query, variables: { input: { projectId, file: null } } }));
  form.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
  form.append("0", new Blob([await readFile(path)]), basename(path));
  return (await graphql(form)).uploadRecord.id;
}

const live = createClient({
  url: AICA_URL.replace(/^http/, "ws") + "/graphql",
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${AICA_TOKEN}`, orgId: AICA_ORG_ID },
  // 4401 (bad token) and 4403 (no such org, not a member) do not heal by retrying.
  shouldRetry: (e) => !(e && [4401, 4403].includes(e.code)),
});

const waiting = new Set();
const results = new Map();
let allDone;
const done = new Promise((resolve, reject) => {
  allDone = resolve;
  live.on("closed", (e) => e?.code >= 4000 && reject(new Error(`refused: ${e.code} ${e.reason}`)));
});

function finished(record) {
  if (!waiting.has(record.id) || results.has(record.id)) return;
  results.set(record.id, record);
  console.log(JSON.stringify(record));
  if (results.size === waiting.size) allDone();
}

const connected = new Promise((resolve) => live.on("connected", resolve));
live.subscribe(
  { query: `subscription ($p: ID!) { recordFinished(projectId: $p) { ${RECORD} } }`, variables: { p: projectId } },
  { next: ({ data }) => finished(data.recordFinished), error: (e) => console.error(e), complete() {} },
);
await connected;
for (const path of files) waiting.add(await upload(path));
for (const id of waiting) {
  // Any that ended before the subscription was in place.
  const { record } = await graphql({ query: `query ($id: ID!) { record(id: $id) { ${RECORD} } }`, variables: { id } });
  if (record.status === "completed" || record.status === "failed") finished(record);
}
await done;
await live.dispose();
process.exit([...results.values()].every((r) => r.status === "completed") ? 0 : 1);
