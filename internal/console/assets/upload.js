// upload.js: a multipart read-set upload from the browser, with the API's
// own operations. Parts are sliced from the File as they are sent, so memory
// stays flat whatever the file's size. The upload ID and the files' identity
// (name, size, last change) are kept in localStorage until the upload
// completes, so that after a reload the same files, picked again, send only
// the parts the server lacks (ListReadSetUploadParts says which).

import { call, headers, seg, query, APIError } from "./api.js";

// PART_SIZE is well under the API's 100 MiB cap, so that progress moves and
// a reload loses little.
const PART_SIZE = 16 << 20;
const MAX_PART_SIZE = 100 << 20; // the API's cap
const PREFIX = "seqstore-upload:";

function identity(f) {
  return f ? `${f.name}|${f.size}|${f.lastModified}` : "";
}

function keyFor(store, fileType, files) {
  return PREFIX + [store, fileType, identity(files[0]), identity(files[1])].join("/");
}

// pending lists the interrupted uploads of a store kept in this browser.
export function pending(store) {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (!k.startsWith(PREFIX + store + "/")) continue;
    try {
      out.push(Object.assign({ key: k }, JSON.parse(localStorage.getItem(k))));
    } catch {
      localStorage.removeItem(k);
    }
  }
  return out;
}

export function forget(key) {
  localStorage.removeItem(key);
}

function partsOf(file, partSize) {
  const n = Math.max(1, Math.ceil(file.size / partSize));
  const out = [];
  for (let i = 0; i < n; i++) out.push({ number: i + 1, start: i * partSize, end: Math.min(file.size, (i + 1) * partSize) });
  return out;
}

// sent lists the parts the server holds for one source.
async function sent(store, uploadId, source) {
  const have = new Map();
  let token;
  do {
    const out = await call("POST", `/sequencestore/${seg(store)}/upload/${seg(uploadId)}/parts` + query({ maxResults: 100, nextToken: token }), { partSource: source });
    for (const p of out.parts || []) have.set(p.partNumber, p);
    token = out.nextToken;
  } while (token);
  return have;
}

// putPart sends one part with XMLHttpRequest, which, unlike fetch, reports
// the progress of a request body.
function putPart(store, uploadId, source, number, blob, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/sequencestore/${seg(store)}/upload/${seg(uploadId)}/part` + query({ partSource: source, partNumber: number }));
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText || "{}");
      } catch {
        /* keep {} */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body.checksum);
      else reject(new APIError(xhr.status, (xhr.getResponseHeader("X-Amzn-Errortype") || "").split(":")[0], body.message));
    };
    xhr.onerror = () => reject(new APIError(0, "", "the connection failed while sending part " + number));
    if (signal) signal.addEventListener("abort", () => xhr.abort());
    xhr.onabort = () => reject(new APIError(0, "", "upload stopped"));
    xhr.send(blob);
  });
}

// upload sends files (one, or a FASTQ pair) as a new read set, resuming an
// interrupted upload of the same files. onProgress(sentBytes, totalBytes,
// text) follows it; onResume(uploadId, parts) says that an interrupted
// upload goes on, with parts already sent. It answers the new read set's ID.
export async function upload({ store, fileType, files, fields, onProgress, onResume, signal, partSize }) {
  files = files.filter(Boolean);
  partSize = Math.min(MAX_PART_SIZE, Math.max(1 << 20, partSize || PART_SIZE));
  const key = keyFor(store, fileType, files);
  const total = files.reduce((n, f) => n + f.size, 0);
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(key));
  } catch {
    saved = null;
  }
  const sources = files.map((f, i) => ({ file: f, name: i ? "SOURCE2" : "SOURCE1" }));
  const have = new Map(); // "SOURCE1/3" -> checksum
  let uploadId = saved?.uploadId;
  if (uploadId) {
    partSize = saved.partSize;
    try {
      for (const s of sources) {
        for (const [n, p] of await sent(store, uploadId, s.name)) {
          const want = partsOf(s.file, partSize)[n - 1];
          if (want && p.partSize === want.end - want.start) have.set(`${s.name}/${n}`, p.checksum);
        }
      }
      if (onResume) onResume(uploadId, have.size);
    } catch (e) {
      if (e.status !== 404 && e.code !== "ResourceNotFoundException" && e.code !== "ValidationException") throw e;
      uploadId = null; // the upload is gone (completed, aborted, or expired): start again
      have.clear();
    }
  }
  if (!uploadId) {
    const body = Object.assign({ sourceFileType: fileType }, fields);
    const out = await call("POST", `/sequencestore/${seg(store)}/upload`, body);
    uploadId = out.uploadId;
    localStorage.setItem(key, JSON.stringify({
      uploadId, partSize, fileType, files: files.map((f) => ({ name: f.name, size: f.size })), started: new Date().toISOString(),
    }));
  }

  let done = 0;
  const parts = [];
  for (const s of sources) {
    for (const p of partsOf(s.file, partSize)) {
      const k = `${s.name}/${p.number}`;
      let checksum = have.get(k);
      if (checksum) {
        done += p.end - p.start;
      } else {
        checksum = await putPart(store, uploadId, s.name, p.number, s.file.slice(p.start, p.end),
          (loaded) => onProgress(done + loaded, total, `Sending ${s.file.name}, part ${p.number}`), signal);
        done += p.end - p.start;
      }
      onProgress(done, total, `Sent ${s.file.name}, part ${p.number}`);
      parts.push({ partNumber: p.number, partSource: s.name, checksum });
    }
  }
  const out = await call("POST", `/sequencestore/${seg(store)}/upload/${seg(uploadId)}/complete`, { parts });
  localStorage.removeItem(key);
  return out.readSetId;
}
