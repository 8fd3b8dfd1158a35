// app.js: the console's pages. Routing is by the URL's fragment
// (#/sequence-store/ID/...), so a reload or a bookmark lands on the same
// page; every page is drawn from the storage API's answers.

import { call, currentSession, signIn, signOut, whoami, query, seg, APIError } from "./api.js";
import { qcFigures } from "./plots.js";
import { upload, pending, forget } from "./upload.js";

const main = document.getElementById("main");
const statusBox = document.getElementById("status");

// h builds an element: h("a", {href: "#/"}, "text", child...).
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k in e && typeof v !== "string") e[k] = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function announce(text, kind) {
  statusBox.textContent = text;
  statusBox.className = "status " + (kind || "");
}

function errorBox(err) {
  const msg = err instanceof APIError ? `${err.code ? err.code + ": " : ""}${err.message}` : String(err && err.message ? err.message : err);
  return h("p", { class: "error", role: "alert" }, msg);
}

function when(t) {
  if (!t) return "";
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function bytes(n) {
  if (n === undefined || n === null) return "";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return (i ? v.toFixed(1) : v) + " " + u[i];
}

function statusBadge(s) {
  return h("span", { class: "badge badge-" + String(s || "").toLowerCase() }, s || "");
}

// table draws rows with columns [{head, cell(row)}]; caption names it.
function table(caption, columns, rows, empty) {
  if (!rows.length) return h("p", { class: "empty" }, empty || "None.");
  return h("div", { class: "table-wrap" },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.head)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c.cell(r)) : h("td", {}, c.cell(r)))))))));
}

// fields flattens an object into [label, value] rows: nested objects get
// dotted names, so every member of an answer is shown.
function fields(obj, prefix) {
  const out = [];
  for (const [k, v] of Object.entries(obj || {})) {
    const name = prefix ? prefix + "." + k : k;
    if (v && typeof v === "object" && !Array.isArray(v)) out.push(...fields(v, name));
    else if (Array.isArray(v)) out.push([name, v.map((x) => (typeof x === "object" ? JSON.stringify(x) : x)).join(", ")]);
    else out.push([name, /Time$|^(created|started|completed)/.test(k) ? when(v) : String(v)]);
  }
  return out;
}

function definitionList(rows) {
  return h("dl", { class: "fields" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function crumbs(...items) {
  return h("nav", { "aria-label": "Breadcrumb", class: "crumbs" },
    h("ol", {}, items.map((it, i) => h("li", {}, i === items.length - 1 ? h("span", { "aria-current": "page" }, it[0]) : h("a", { href: it[1] }, it[0])))));
}

function page(title, ...children) {
  document.title = title + " · seqstore console";
  main.replaceChildren(...children.flat().filter(Boolean));
  const h1 = main.querySelector("h1");
  if (h1) h1.setAttribute("tabindex", "-1");
}

const storeHref = (sid) => `#/sequence-store/${seg(sid)}`;
const readSetHref = (sid, id) => `#/sequence-store/${seg(sid)}/read-set/${seg(id)}`;

// confirm asks in a modal dialog; it answers true when the person confirms.
function confirmDelete(text, action) {
  const dlg = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = action;
  document.getElementById("confirm-title").textContent = action + "?";
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true });
    dlg.returnValue = "";
    dlg.showModal();
  });
}

// ---- sign-in ----

function signInPage(message) {
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  const err = h("div", { id: "sign-in-error" });
  if (message) err.append(h("p", { class: "error", role: "alert" }, message));
  const form = h("form", { class: "card sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to seqstore"),
    h("p", {}, "Use an access key pair of your account, the one your AWS clients use. The secret is checked by the server and not kept in this browser."),
    h("label", { for: "access-key-id" }, "Access key ID"),
    h("input", { id: "access-key-id", name: "accessKeyId", required: true, autocomplete: "username", spellcheck: "false", autocapitalize: "off" }),
    h("label", { for: "secret-access-key" }, "Secret access key"),
    h("input", { id: "secret-access-key", name: "secretAccessKey", type: "password", required: true, autocomplete: "off" }),
    err,
    h("button", { type: "submit", id: "sign-in-button" }, "Sign in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    try {
      await signIn(fd.get("accessKeyId"), fd.get("secretAccessKey"));
      form.reset();
      showWho();
      route();
    } catch (ex) {
      err.replaceChildren(errorBox(ex));
      form.querySelector("#secret-access-key").focus();
    }
  });
  page("Sign in", form);
  form.querySelector("input").focus();
}

function showWho() {
  const s = whoami();
  document.getElementById("nav").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("who-key").textContent = `${s.accessKeyId} · account ${s.accountId}`;
}

document.getElementById("sign-out").addEventListener("click", async () => {
  await signOut();
  signInPage("You are signed out.");
});

window.addEventListener("seqstore-access-denied", async () => {
  if (!(await currentSession())) signInPage("Your session ended. Sign in again.");
});

// ---- stores ----

async function storesPage(draw) {
  draw("Stores", h("h1", {}, "Stores"), h("p", { class: "loading" }, "Loading stores…"));
  const [seqs, refs] = await Promise.all([listAll("POST", "/sequencestores", "sequenceStores"), listAll("POST", "/referencestores", "referenceStores")]);
  const nameInput = h("input", { id: "new-store-name", name: "name", required: true, maxlength: 127 });
  const create = h("form", { class: "inline" },
    h("label", { for: "new-store-name" }, "New sequence store name"), nameInput,
    h("button", { type: "submit" }, "Create sequence store"));
  create.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const out = await call("POST", "/sequencestore", { name: nameInput.value });
      announce(`Created sequence store ${out.id}.`, "ok");
      location.hash = storeHref(out.id);
    } catch (ex) {
      announce(ex.message, "bad");
    }
  });
  draw("Stores",
    h("h1", {}, "Stores"),
    h("section", { "aria-labelledby": "seq-title" },
      h("h2", { id: "seq-title" }, "Sequence stores"),
      table("Sequence stores", [
        { head: "Name", cell: (s) => h("a", { href: storeHref(s.id) }, s.name || s.id) },
        { head: "ID", cell: (s) => h("code", {}, s.id) },
        { head: "Status", cell: (s) => statusBadge(s.status) },
        { head: "Description", cell: (s) => s.description || "" },
        { head: "Created", cell: (s) => when(s.creationTime) },
      ], seqs, "No sequence stores yet."),
      create),
    h("section", { "aria-labelledby": "ref-title" },
      h("h2", { id: "ref-title" }, "Reference stores"),
      table("Reference stores", [
        { head: "Name", cell: (s) => h("a", { href: `#/reference-store/${seg(s.id)}` }, s.name || s.id) },
        { head: "ID", cell: (s) => h("code", {}, s.id) },
        { head: "Description", cell: (s) => s.description || "" },
        { head: "Created", cell: (s) => when(s.creationTime) },
      ], refs, "No reference stores.")));
}

// listAll follows nextToken to the end (stores and jobs lists are short).
async function listAll(method, path, key, body) {
  const out = [];
  let token;
  let calls = 0;
  do {
    const r = await call(method, path + query({ maxResults: 100, nextToken: token }), body || {});
    out.push(...(r[key] || []));
    token = r.nextToken;
  } while (token && ++calls < 50);
  return out;
}

async function referencesPage(draw, rid) {
  const [store, refs] = await Promise.all([
    call("GET", `/referencestore/${seg(rid)}`),
    listAll("POST", `/referencestore/${seg(rid)}/references`, "references"),
  ]);
  draw(store.name || rid,
    crumbs(["Stores", "#/"], [store.name || rid]),
    h("h1", {}, "Reference store ", store.name || rid),
    definitionList(fields(store)),
    h("h2", {}, "References"),
    table("References", [
      { head: "Name", cell: (r) => r.name || r.id },
      { head: "ID", cell: (r) => h("code", {}, r.id) },
      { head: "Status", cell: (r) => statusBadge(r.status) },
      { head: "MD5", cell: (r) => h("code", {}, r.md5 || "") },
      { head: "Created", cell: (r) => when(r.creationTime) },
    ], refs, "No references."));
}

// ---- read sets ----

const STATUSES = ["", "ARCHIVED", "ACTIVATING", "ACTIVE", "DELETING", "DELETED", "PROCESSING_UPLOAD", "UPLOAD_FAILED"];
const FILE_TYPES = ["", "FASTQ", "BAM", "CRAM", "UBAM"];

function storeTabs(sid, current) {
  const tabs = [["Read sets", storeHref(sid)], ["Upload", storeHref(sid) + "/upload"], ["Jobs", storeHref(sid) + "/jobs"]];
  return h("nav", { class: "tabs", "aria-label": "Store" },
    tabs.map(([t, href]) => h("a", { href, "aria-current": t === current ? "page" : false }, t)));
}

function hashParams() {
  const i = location.hash.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : location.hash.slice(i + 1));
}

// listState keeps, per store and filter, the tokens of the pages seen, so
// that Previous goes back without the API having to.
const listState = { key: "", tokens: [""], index: 0 };

async function readSetsPage(draw, sid) {
  const started = performance.now();
  const p = hashParams();
  const f = {
    status: p.get("status") || "", sampleId: p.get("sample") || "", subjectId: p.get("subject") || "",
    fileType: p.get("fileType") || "", name: p.get("name") || "",
    after: p.get("after") || "", before: p.get("before") || "", size: +(p.get("size") || 50),
  };
  const key = sid + "?" + p.toString();
  if (listState.key !== key) Object.assign(listState, { key, tokens: [""], index: 0 });
  const filter = {};
  if (f.status) filter.status = f.status;
  if (f.sampleId) filter.sampleId = f.sampleId;
  if (f.subjectId) filter.subjectId = f.subjectId;
  if (f.name) filter.name = f.name;
  if (f.after) filter.createdAfter = new Date(f.after + "T00:00:00Z").toISOString();
  if (f.before) filter.createdBefore = new Date(f.before + "T23:59:59.999Z").toISOString();

  const storeP = call("GET", `/sequencestore/${seg(sid)}`);
  // ListReadSets has no file-type filter: read pages until one is full.
  let token = listState.tokens[listState.index];
  const items = [];
  let calls = 0;
  do {
    const out = await call("POST", `/sequencestore/${seg(sid)}/readsets` + query({ maxResults: f.size, nextToken: token }), { filter });
    items.push(...(out.readSets || []).filter((r) => !f.fileType || r.fileType === f.fileType));
    token = out.nextToken;
  } while (f.fileType && token && items.length < f.size && ++calls < 20);
  const store = await storeP;
  listState.tokens[listState.index + 1] = token || null;

  const form = h("form", { class: "filters", "aria-label": "Filter read sets" },
    field("Status", h("select", { id: "f-status", name: "status" }, STATUSES.map((s) => h("option", { value: s, selected: s === f.status }, s || "any but DELETED")))),
    field("Sample", h("input", { id: "f-sample", name: "sample", value: f.sampleId })),
    field("Subject", h("input", { id: "f-subject", name: "subject", value: f.subjectId })),
    field("Name", h("input", { id: "f-name", name: "name", value: f.name })),
    field("File type", h("select", { id: "f-fileType", name: "fileType" }, FILE_TYPES.map((s) => h("option", { value: s, selected: s === f.fileType }, s || "any")))),
    field("Created from", h("input", { id: "f-after", name: "after", type: "date", value: f.after })),
    field("Created to", h("input", { id: "f-before", name: "before", type: "date", value: f.before })),
    field("Per page", h("select", { id: "f-size", name: "size" }, [25, 50, 100].map((n) => h("option", { value: n, selected: n === f.size }, n)))),
    h("div", { class: "filter-actions" },
      h("button", { type: "submit" }, "Apply filters"),
      h("a", { href: storeHref(sid), class: "button secondary" }, "Clear")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v && !(k === "size" && v === "50")) q.set(k, v);
    const s = q.toString();
    location.hash = storeHref(sid) + (s ? "?" + s : "");
  });

  const prev = h("button", { type: "button", disabled: listState.index === 0, id: "prev-page" }, "Previous page");
  const next = h("button", { type: "button", disabled: !token, id: "next-page" }, "Next page");
  prev.addEventListener("click", () => {
    listState.index--;
    route();
  });
  next.addEventListener("click", () => {
    listState.index++;
    route();
  });

  const list = table(`Read sets, page ${listState.index + 1}`, [
    { head: "Name", cell: (r) => h("a", { href: readSetHref(sid, r.id) }, r.name || r.id) },
    { head: "ID", cell: (r) => h("code", {}, r.id) },
    { head: "Status", cell: (r) => statusBadge(r.status) },
    { head: "File type", cell: (r) => r.fileType },
    { head: "Sample", cell: (r) => r.sampleId || "" },
    { head: "Subject", cell: (r) => r.subjectId || "" },
    { head: "Reads", cell: (r) => (r.sequenceInformation?.totalReadCount ?? "").toLocaleString() },
    { head: "Created", cell: (r) => when(r.creationTime) },
  ], items, "No read sets match.");
  const elapsed = Math.round(performance.now() - started);
  list.dataset.listMs = elapsed;
  list.id = "read-sets";

  const del = h("button", { type: "button", class: "danger secondary", id: "delete-store" }, "Delete this store");
  del.addEventListener("click", async () => {
    if (!(await confirmDelete(`Delete the sequence store “${store.name || sid}”? Only an empty store can be deleted.`, "Delete store"))) return;
    try {
      await call("DELETE", `/sequencestore/${seg(sid)}`);
      announce(`Deleted sequence store ${sid}.`, "ok");
      location.hash = "#/";
    } catch (ex) {
      announce(ex.message, "bad");
    }
  });

  draw(store.name || sid,
    crumbs(["Stores", "#/"], [store.name || sid]),
    h("h1", {}, store.name || sid),
    h("p", { class: "sub" }, h("code", {}, store.arn || sid), store.description ? " · " + store.description : ""),
    storeTabs(sid, "Read sets"),
    form,
    list,
    h("div", { class: "pager" }, prev, h("span", {}, `Page ${listState.index + 1} · ${items.length} shown · ${elapsed} ms`), next),
    h("details", { class: "store-details" }, h("summary", {}, "Store settings"), definitionList(fields(store)), del));
}

function field(label, input) {
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input);
}

async function readSetPage(draw, sid, id) {
  draw("Read set", h("p", { class: "loading" }, "Loading read set…"));
  const [md, qc] = await Promise.all([
    call("GET", `/sequencestore/${seg(sid)}/readset/${seg(id)}/metadata`),
    call("GET", `/sequencestore/${seg(sid)}/readset/${seg(id)}/qc`).catch((e) => e),
  ]);
  const files = [];
  for (const [key, name] of [["source1", "SOURCE1"], ["source2", "SOURCE2"], ["index", "INDEX"]]) {
    const fi = md.files?.[key];
    if (!fi) continue;
    const links = [];
    for (let n = 1; n <= (fi.totalParts || 0); n++) {
      const href = `/sequencestore/${seg(sid)}/readset/${seg(id)}` + query({ file: name, partNumber: n });
      links.push(h("a", { href, download: `${md.name || id}.${key}.part${n}`, "aria-label": `Download ${key} part ${n} of ${fi.totalParts}` }, `part ${n}`), " ");
    }
    files.push({ key, fi, links });
  }
  const del = h("button", { type: "button", class: "danger", id: "delete-read-set" }, "Delete read set");
  del.addEventListener("click", async () => {
    if (!(await confirmDelete(`Delete the read set “${md.name || id}” (${id})? Its files are removed; this cannot be undone.`, "Delete read set"))) return;
    try {
      const out = await call("POST", `/sequencestore/${seg(sid)}/readset/batch/delete`, { ids: [id] });
      if (out.errors && out.errors.length) throw new Error(out.errors.map((e) => e.message || e.code).join("; "));
      announce(`Deleted read set ${id}.`, "ok");
      location.hash = storeHref(sid);
    } catch (ex) {
      announce(ex.message, "bad");
    }
  });
  let qcSection;
  if (qc instanceof Error) {
    qcSection = h("p", { class: "empty", id: "qc-missing" }, qc.code === "ResourceNotFoundException" ? `No QC report: ${qc.message}` : `The QC report could not be read: ${qc.message}`);
  } else {
    const sources = qc.sources || [];
    qcSection = h("div", {},
      h("p", {}, sources.map((s) => `${s.source}${s.fileName ? " (" + s.fileName + ")" : ""}: ${(s.reads?.reads ?? 0).toLocaleString()} reads, ${(s.reads?.bases ?? 0).toLocaleString()} bases, GC ${(s.reads?.gcPercent ?? 0).toFixed(1)}%, ${s.reads?.encoding || ""}`).join(" · ")),
      h("div", { class: "plots", id: "qc-plots" }, qcFigures(qc)));
  }
  draw(md.name || id,
    crumbs(["Stores", "#/"], [md.sequenceStoreId, storeHref(sid)], [md.name || id]),
    h("h1", {}, md.name || id, " ", statusBadge(md.status)),
    md.statusMessage ? h("p", { class: md.status === "UPLOAD_FAILED" ? "error" : "sub" }, md.statusMessage) : null,
    h("section", { "aria-labelledby": "md-title" }, h("h2", { id: "md-title" }, "Metadata"), definitionList(fields(md))),
    h("section", { "aria-labelledby": "files-title" },
      h("h2", { id: "files-title" }, "Files"),
      table("Files and parts", [
        { head: "File", cell: (f) => f.key },
        { head: "Size", cell: (f) => bytes(f.fi.contentLength) },
        { head: "Parts", cell: (f) => `${f.fi.totalParts ?? ""} × ${bytes(f.fi.partSize)}` },
        { head: "S3 URI", cell: (f) => h("code", {}, f.fi.s3Access?.s3Uri || "") },
        { head: "Download", cell: (f) => f.links },
      ], files, "No files.")),
    h("section", { "aria-labelledby": "qc-title" }, h("h2", { id: "qc-title" }, "Quality control"), qcSection),
    h("div", { class: "actions" }, del));
}

// ---- upload ----

async function uploadPage(draw, sid) {
  const store = await call("GET", `/sequencestore/${seg(sid)}`);
  const type = h("select", { id: "u-type", name: "fileType" }, ["FASTQ", "BAM", "UBAM"].map((t) => h("option", { value: t }, t)));
  const f1 = h("input", { id: "u-file1", name: "file1", type: "file", required: true });
  const f2 = h("input", { id: "u-file2", name: "file2", type: "file" });
  const f2field = field("Second file of a FASTQ pair (optional)", f2);
  // The references of the account, offered as the input's suggestions.
  const refList = h("datalist", { id: "u-ref-list" });
  const ref = field("Reference ARN (BAM)", h("input", { id: "u-ref", name: "referenceArn", list: "u-ref-list" }));
  ref.append(refList);
  ref.hidden = true;
  listAll("POST", "/referencestores", "referenceStores")
    .then((stores) => Promise.all(stores.map((st) => listAll("POST", `/referencestore/${seg(st.id)}/references`, "references"))))
    .then((lists) => refList.replaceChildren(...lists.flat().map((r) => h("option", { value: r.arn }, r.name || r.id))))
    .catch(() => {}); // suggestions only: the field takes any ARN
  type.addEventListener("change", () => {
    f2field.hidden = type.value !== "FASTQ";
    ref.hidden = type.value !== "BAM";
  });
  const bar = h("progress", { id: "u-progress", max: 1, value: 0, "aria-label": "Upload progress" });
  const progressText = h("p", { id: "u-progress-text", "aria-live": "polite" });
  const resumed = h("p", { id: "u-resumed" });
  const result = h("div", { id: "u-result" });
  const button = h("button", { type: "submit", id: "u-start" }, "Upload");
  const form = h("form", { class: "card upload", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "Upload a read set"),
    field("File type", type),
    field("File (FASTQ, plain or gzip, or BAM)", f1),
    f2field,
    field("Name", h("input", { id: "u-name", name: "name", required: true, maxlength: 127 })),
    field("Subject ID", h("input", { id: "u-subject", name: "subjectId", required: true, maxlength: 127 })),
    field("Sample ID", h("input", { id: "u-sample", name: "sampleId", required: true, maxlength: 127 })),
    field("Description (optional)", h("input", { id: "u-description", name: "description", maxlength: 255 })),
    ref,
    h("details", {}, h("summary", {}, "Advanced"),
      field("Part size (MiB, 1 to 100; smaller parts lose less to a broken connection)",
        h("input", { id: "u-part-size", name: "partSize", type: "number", min: 1, max: 100, value: 16, required: true }))),
    button, bar, resumed, progressText, result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    const fieldsOut = { name: fd.get("name"), subjectId: fd.get("subjectId"), sampleId: fd.get("sampleId") };
    if (fd.get("description")) fieldsOut.description = fd.get("description");
    if (type.value === "BAM" && fd.get("referenceArn")) fieldsOut.referenceArn = fd.get("referenceArn");
    const files = [f1.files[0], type.value === "FASTQ" ? f2.files[0] : null];
    button.disabled = true;
    result.replaceChildren();
    resumed.replaceChildren();
    try {
      const id = await upload({
        store: sid, fileType: type.value, files, fields: fieldsOut, partSize: Number(fd.get("partSize")) * 1024 * 1024,
        onResume: (uploadId, parts) => {
          resumed.textContent = `Resumed upload ${uploadId}: ${parts} part(s) were already on the server.`;
          resumed.dataset.parts = parts;
        },
        onProgress: (sent, total, text) => {
          bar.max = total || 1;
          bar.value = sent;
          progressText.textContent = `${text} · ${bytes(sent)} of ${bytes(total)}`;
        },
      });
      progressText.textContent = `Uploaded. Read set ${id} is being checked…`;
      result.append(h("p", {}, "Read set ", h("a", { href: readSetHref(sid, id), id: "u-link" }, id), " status: ", h("span", { id: "u-status" }, "PROCESSING_UPLOAD")));
      const md = await watch(sid, id);
      progressText.textContent = md.status === "ACTIVE" ? "Uploaded and checked." : `Uploaded, but ingestion ended ${md.status}.`;
    } catch (ex) {
      result.replaceChildren(errorBox(ex));
      progressText.textContent = "The upload stopped. Pick the same files and press Upload to resume it.";
    } finally {
      button.disabled = false;
    }
  });
  const waiting = pending(sid);
  draw("Upload",
    crumbs(["Stores", "#/"], [store.name || sid, storeHref(sid)], ["Upload"]),
    h("h1", {}, "Upload to ", store.name || sid),
    storeTabs(sid, "Upload"),
    waiting.length ? h("section", { class: "card", "aria-labelledby": "resume-title" },
      h("h2", { id: "resume-title" }, "Interrupted uploads"),
      h("p", {}, "Pick the same files again (with the same file type) to send only the parts the server lacks."),
      h("ul", {}, waiting.map((w) => {
        const b = h("button", { type: "button", class: "secondary" }, "Forget");
        b.addEventListener("click", () => {
          forget(w.key);
          route();
        });
        return h("li", {}, `${w.fileType}: ${w.files.map((f) => `${f.name} (${bytes(f.size)})`).join(" + ")}, started ${when(w.started)}, upload ${w.uploadId} `, b);
      }))) : null,
    form);
}

// watch polls a read set until ingestion ends.
async function watch(sid, id) {
  for (;;) {
    const md = await call("GET", `/sequencestore/${seg(sid)}/readset/${seg(id)}/metadata`);
    const el = document.getElementById("u-status");
    if (el) el.textContent = md.status + (md.statusMessage ? `: ${md.statusMessage}` : "");
    if (md.status !== "PROCESSING_UPLOAD") {
      announce(`Read set ${id} is ${md.status}.`, md.status === "ACTIVE" ? "ok" : "bad");
      return md;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---- jobs ----

const JOB_KINDS = [
  { kind: "import", title: "Import jobs", list: "importjobs", key: "importJobs", get: "importjob" },
  { kind: "export", title: "Export jobs", list: "exportjobs", key: "exportJobs", get: "exportjob" },
  { kind: "activation", title: "Activation jobs", list: "activationjobs", key: "activationJobs", get: "activationjob" },
];

async function jobsPage(draw, sid) {
  const store = await call("GET", `/sequencestore/${seg(sid)}`);
  const lists = await Promise.all(JOB_KINDS.map((k) => listAll("POST", `/sequencestore/${seg(sid)}/${k.list}`, k.key, {})));
  draw("Jobs",
    crumbs(["Stores", "#/"], [store.name || sid, storeHref(sid)], ["Jobs"]),
    h("h1", {}, "Jobs of ", store.name || sid),
    storeTabs(sid, "Jobs"),
    JOB_KINDS.map((k, i) => h("section", { "aria-labelledby": "jobs-" + k.kind },
      h("h2", { id: "jobs-" + k.kind }, k.title),
      table(k.title, [
        { head: "ID", cell: (j) => h("a", { href: `${storeHref(sid)}/job/${k.kind}/${seg(j.id)}` }, j.id) },
        { head: "Status", cell: (j) => statusBadge(j.status) },
        { head: "Created", cell: (j) => when(j.creationTime) },
        { head: "Completed", cell: (j) => when(j.completionTime) },
      ], lists[i], "None."))));
}

async function jobPage(draw, sid, kind, id) {
  const k = JOB_KINDS.find((x) => x.kind === kind);
  if (!k) throw new Error("no such kind of job: " + kind);
  const job = await call("GET", `/sequencestore/${seg(sid)}/${k.get}/${seg(id)}`);
  const items = job.sources || job.readSets || [];
  const top = Object.assign({}, job);
  delete top.sources;
  delete top.readSets;
  // The columns that tell items apart come first; the rest of each item's
  // fields fold under "More", so the table fits a laptop's width.
  const leading = ["readSetId", "id", "name", "status", "statusMessage", "sourceFileType", "sourceFiles.source1", "sourceFiles.source2"];
  const present = new Set(items.flatMap((it) => fields(it).map((r) => r[0])));
  const cols = leading.filter((c) => present.has(c));
  const more = (it) => {
    const rest = fields(it).filter((r) => !cols.includes(r[0]));
    return rest.length ? h("details", {}, h("summary", {}, "More"), definitionList(rest)) : "";
  };
  draw(`${k.title.slice(0, -1)} ${id}`,
    crumbs(["Stores", "#/"], [sid, storeHref(sid)], ["Jobs", storeHref(sid) + "/jobs"], [id]),
    h("h1", {}, `${k.title.slice(0, -5)} job `, h("code", {}, id), " ", statusBadge(job.status)),
    definitionList(fields(top)),
    h("h2", {}, "Items"),
    table("Items", cols.map((c) => ({
      head: c, cell: (it) => {
        const v = (fields(it).find((r) => r[0] === c) || [])[1] || "";
        return c === "readSetId" || c === "id" ? (v ? h("a", { href: readSetHref(sid, v) }, v) : "") : c === "status" ? statusBadge(v) : c.startsWith("sourceFiles") ? h("span", { class: "wrap" }, v) : v;
      },
    })).concat([{ head: "Other fields", cell: more }]), items, "No items."));
}

// ---- routing ----

const routes = [
  [/^#?\/?$/, storesPage],
  [/^#\/reference-store\/([^/?]+)$/, referencesPage],
  [/^#\/sequence-store\/([^/?]+)$/, readSetsPage],
  [/^#\/sequence-store\/([^/?]+)\/read-set\/([^/?]+)$/, readSetPage],
  [/^#\/sequence-store\/([^/?]+)\/upload$/, uploadPage],
  [/^#\/sequence-store\/([^/?]+)\/jobs$/, jobsPage],
  [/^#\/sequence-store\/([^/?]+)\/job\/([a-z]+)\/([^/?]+)$/, jobPage],
];

let routing = 0;

async function route() {
  if (!whoami()) return;
  const hash = location.hash.split("?")[0];
  const n = ++routing;
  for (const [re, fn] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    main.setAttribute("aria-busy", "true");
    try {
      // A page drawn after the person has moved on would hide the newer one.
      const draw = (...args) => {
        if (n === routing) page(...args);
      };
      await fn(draw, ...m.slice(1).map(decodeURIComponent));
    } catch (ex) {
      if (n === routing) page("Error", h("h1", {}, "Something went wrong"), errorBox(ex), h("p", {}, h("a", { href: "#/" }, "Back to the stores")));
    } finally {
      if (n === routing) {
        // data-route and data-ready tell automation (the browser test,
        // scripts) which page is drawn and that it is done.
        main.removeAttribute("aria-busy");
        main.dataset.route = hash || "#/";
        main.dataset.ready = String(n);
      }
    }
    return;
  }
  page("Not found", h("h1", {}, "No such page"), h("p", {}, h("a", { href: "#/" }, "Back to the stores")));
}

window.addEventListener("hashchange", () => {
  announce("");
  route();
});

(async () => {
  if (await currentSession()) {
    showWho();
    route();
  } else {
    signInPage();
  }
})();
