// graphql-ws 6 + ws, as a dashboard would use them: subscribe to recordFinished, upload a
// recording (GraphQL multipart request) and ingest a URL that fails, then print the two
// finished records as JSON. Also checks the README's shouldRetry: a refused org fails at once.
import { createClient } from "graphql-ws";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import WebSocket from "ws";

const { AICA_URL, AICA_TOKEN, AICA_ORG_ID, PROJECT_ID, RECORDING, MISSING_URL } = process.env;
const wsUrl = AICA_URL.replace(/^http/, "ws") + "/graphql";
const headers = { Authorization: `Bearer ${AICA_TOKEN}`, "X-Selected-Org-ID": AICA_ORG_ID };

function connect(orgId) {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${AICA_TOKEN}`, orgId },
    // 4401 (bad token) and 4403 (no such org, not a member) do not heal by retrying.
    shouldRetry: (e) => !(e && [4401, 4403].includes(e.code)),
  });
}

async function graphql(query, variables) {
  const response = await fetch(`${AICA_URL}/graphql`, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()).data;
}

async function upload(path) {
  const query = "mutation ($input: UploadRecordInput!) { uploadRecord(input: $input) { id } }";
  const form = new FormData();
  const variables = { input: { projectId: PROJECT_ID, file: null } };
  form.append("operations", JSON.stringify({ query, variables }));
  form.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
  form.append("0", new Blob([await readFile(path)]), basename(path));
  const response = await fetch(`${AICA_URL}/graphql`, { method: "POST", headers, body: form });
  return (await response.json()).data.uploadRecord.id;
}

async function refusedOrg() {
  const client = connect("org_doesnotexist");
  const started = Date.now();
  const code = await new Promise((resolve) => {
    client.subscribe(
      { query: "subscription ($p: ID!) { recordFinished(projectId: $p) { id } }", variables: { p: PROJECT_ID } },
      { next: () => resolve("next"), error: (e) => resolve(e.code), complete: () => resolve("complete") },
    );
  });
  await client.dispose();
  return { code, seconds: (Date.now() - started) / 1000 };
}

const client = connect(AICA_ORG_ID);
const connected = new Promise((resolve) => client.on("connected", resolve));
const finished = [];
const done = new Promise((resolve, reject) => {
  client.subscribe(
    {
      query: "subscription ($p: ID!) { recordFinished(projectId: $p) { id status error } }",
      variables: { p: PROJECT_ID },
    },
    {
      next: ({ data }) => {
        finished.push(data.recordFinished);
        if (finished.length === 2) resolve();
      },
      error: reject,
      complete: () => reject(new Error("completed early")),
    },
  );
});
await connected;
await new Promise((resolve) => setTimeout(resolve, 300)); // the subscribe message goes first
const uploaded = await upload(RECORDING);
const ingest = "mutation ($input: IngestRecordInput!) { ingestRecord(input: $input) { id } }";
const ingested = (
  await graphql(ingest, {
    input: { projectId: PROJECT_ID, audioUrl: MISSING_URL, externalId: `node-${Date.now()}` },
  })
).ingestRecord.id;
await done;
await client.dispose();
console.log(JSON.stringify({ uploaded, ingested, finished, refused: await refusedOrg() }));
