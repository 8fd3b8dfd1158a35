// api.js: the console's session and its calls to the storage API. The
// session cookie is HttpOnly, so scripts never see it; the CSRF token lives
// in this module's memory only and goes out as a header on every call.

const csrfHeader = "X-Seqstore-Csrf";
let session = null;

export class APIError extends Error {
  constructor(status, code, message) {
    super(message || code || "HTTP " + status);
    this.status = status;
    this.code = code;
  }
}

// currentSession asks the server whether this browser is signed in.
export async function currentSession() {
  const r = await fetch("session", { credentials: "same-origin" });
  session = r.ok ? await r.json() : null;
  return session;
}

export async function signIn(accessKeyId, secretAccessKey) {
  const r = await fetch("session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ accessKeyId, secretAccessKey }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new APIError(r.status, "", body.message || "sign-in failed");
  session = body;
  return session;
}

export async function signOut() {
  if (!session) return;
  await fetch("session", { method: "DELETE", credentials: "same-origin", headers: { [csrfHeader]: session.csrfToken } });
  session = null;
}

export function whoami() {
  return session;
}

// headers are what every API call carries.
export function headers(extra) {
  return Object.assign({ [csrfHeader]: session ? session.csrfToken : "" }, extra || {});
}

// call sends one storage operation: method, path (with query), and a JSON
// body or none. It answers the decoded JSON, or throws APIError with the
// model's error code and message.
export async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: headers() };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let data = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!r.ok) {
    const code = (r.headers.get("X-Amzn-Errortype") || "").split(":")[0];
    const err = new APIError(r.status, code, data.message || data.Message);
    if (r.status === 403 && code === "AccessDeniedException") {
      window.dispatchEvent(new CustomEvent("seqstore-access-denied", { detail: err }));
    }
    throw err;
  }
  return data;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

// seg escapes one path segment.
export function seg(s) {
  return encodeURIComponent(s);
}
