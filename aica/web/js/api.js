// GraphQL over fetch with the signed-in token and the selected organization.

const KEY = "aica.session";

export const session = {
  token: null,
  orgId: null,
  projectId: null,
  load() {
    Object.assign(this, JSON.parse(localStorage.getItem(KEY) || "{}"));
  },
  save() {
    const { token, orgId, projectId } = this;
    localStorage.setItem(KEY, JSON.stringify({ token, orgId, projectId }));
  },
  clear() {
    this.token = this.orgId = this.projectId = null;
    localStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.extensions?.code ?? "ERROR";
  }
}

function headers() {
  const result = {};
  if (session.token) result.Authorization = `Bearer ${session.token}`;
  if (session.orgId) result["X-Selected-Org-ID"] = session.orgId;
  return result;
}

/** The whole answer, partial data and errors alike. */
export async function request(query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { ...headers(), "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => ({}));
  if (!body.data && !body.errors) {
    throw new ApiError({ message: `HTTP ${response.status}`, extensions: { code: "HTTP" } });
  }
  return body;
}

/** The data, or the first error thrown as an ApiError. */
export async function gql(query, variables = {}) {
  const body = await request(query, variables);
  if (body.errors?.length) throw new ApiError(body.errors[0]);
  return body.data;
}

const UPLOAD = "mutation ($input: UploadRecordInput!) { uploadRecord(input: $input) { id status } }";

/** A GraphQL multipart upload through XMLHttpRequest, the one browser API with upload progress. */
export function uploadRecord(projectId, file, onProgress) {
  const form = new FormData();
  form.append("operations", JSON.stringify({ query: UPLOAD, variables: { input: { projectId, file: null } } }));
  form.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
  form.append("0", file, file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/graphql");
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError({ message: "The upload did not reach the server" }));
    xhr.onload = () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON: reported below */
      }
      if (body.errors?.length) reject(new ApiError(body.errors[0]));
      else if (body.data?.uploadRecord) resolve(body.data.uploadRecord);
      else reject(new ApiError({ message: `HTTP ${xhr.status}` }));
    };
    xhr.send(form);
  });
}
