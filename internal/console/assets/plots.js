// plots.js: small SVG charts of a QC report, drawn with the DOM. Each chart
// is a <figure> whose SVG has role="img" and a label, with a table of the
// numbers behind it for screen readers and for copying.

const NS = "http://www.w3.org/2000/svg";
const W = 560, H = 260;
const M = { top: 14, right: 16, bottom: 42, left: 56 };
// Series colours with at least 3:1 contrast against white, told apart by
// dash pattern too.
const COLOURS = ["#1f5fbf", "#b3261e", "#2e7d32", "#7b1fa2"];
const DASHES = ["", "6 3", "2 3", "8 3 2 3"];

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// niceTicks returns about n round values spanning [lo, hi].
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function fmt(v) {
  if (Math.abs(v) >= 1e6) return (v / 1e6).toPrecision(3) + "M";
  if (Math.abs(v) >= 1e4) return (v / 1e3).toPrecision(3) + "k";
  return String(+v.toPrecision(4));
}

// chart draws series ({name, points: [[x, y]...], kind: "line"|"bar",
// band: [[x, lo, hi]...]}) with axes; it returns the <figure>.
export function chart({ id, title, xLabel, yLabel, series, yMin, yMax, xMin, xMax, categories }) {
  const fig = document.createElement("figure");
  fig.className = "plot";
  fig.id = id;
  const cap = document.createElement("figcaption");
  cap.textContent = title;
  cap.id = id + "-title";
  fig.appendChild(cap);
  const all = series.flatMap((s) => s.points);
  const bands = series.flatMap((s) => s.band || []);
  if (all.length === 0) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No data.";
    fig.appendChild(p);
    return fig;
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).concat(bands.map((b) => b[2]));
  const x0 = xMin ?? Math.min(...xs), x1 = xMax ?? Math.max(...xs);
  const y0 = yMin ?? Math.min(0, ...ys), y1 = yMax ?? Math.max(...ys);
  const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
  const bar = series.some((s) => s.kind === "bar");
  const slots = categories ? categories.length : 0;
  const sx = categories
    ? (i) => M.left + (i + 0.5) * (pw / slots)
    : (v) => M.left + (x1 === x0 ? pw / 2 : ((v - x0) / (x1 - x0)) * pw);
  const sy = (v) => M.top + ph - (y1 === y0 ? ph / 2 : ((v - y0) / (y1 - y0)) * ph);

  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": id + "-title", class: "chart", "data-series": series.length, "data-points": all.length });
  el("title", {}, svg).textContent = title;
  const axes = el("g", { class: "axes" }, svg);
  for (const t of niceTicks(y0, y1, 5)) {
    el("line", { x1: M.left, x2: M.left + pw, y1: sy(t), y2: sy(t), class: "grid" }, axes);
    el("text", { x: M.left - 6, y: sy(t) + 4, "text-anchor": "end" }, axes).textContent = fmt(t);
  }
  if (categories) {
    const every = Math.ceil(slots / 12);
    categories.forEach((c, i) => {
      if (i % every) return;
      el("text", { x: sx(i), y: M.top + ph + 16, "text-anchor": "middle" }, axes).textContent = c.length > 10 ? c.slice(0, 9) + "…" : c;
    });
  } else {
    for (const t of niceTicks(x0, x1, 8)) {
      el("line", { x1: sx(t), x2: sx(t), y1: M.top + ph, y2: M.top + ph + 4, class: "tick" }, axes);
      el("text", { x: sx(t), y: M.top + ph + 16, "text-anchor": "middle" }, axes).textContent = fmt(t);
    }
  }
  el("line", { x1: M.left, x2: M.left + pw, y1: M.top + ph, y2: M.top + ph, class: "axis" }, axes);
  el("line", { x1: M.left, x2: M.left, y1: M.top, y2: M.top + ph, class: "axis" }, axes);
  el("text", { x: M.left + pw / 2, y: H - 6, "text-anchor": "middle", class: "label" }, axes).textContent = xLabel;
  el("text", { x: 14, y: M.top + ph / 2, "text-anchor": "middle", class: "label", transform: `rotate(-90 14 ${M.top + ph / 2})` }, axes).textContent = yLabel;

  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const g = el("g", { class: "series", "data-name": s.name }, svg);
    if (s.band && s.band.length) {
      const up = s.band.map((b) => `${sx(b[0]).toFixed(1)},${sy(b[2]).toFixed(1)}`);
      const down = s.band.slice().reverse().map((b) => `${sx(b[0]).toFixed(1)},${sy(b[1]).toFixed(1)}`);
      el("polygon", { points: up.concat(down).join(" "), fill: colour, "fill-opacity": "0.15", stroke: "none", class: "band" }, g);
    }
    if (s.kind === "bar") {
      const bw = Math.min(60, Math.max(1, (categories ? pw / slots : pw / Math.max(1, s.points.length)) * 0.8 / series.length));
      s.points.forEach((p, j) => {
        const cx = categories ? sx(j) : sx(p[0]);
        const x = cx - (bw * series.length) / 2 + i * bw;
        const bar = el("rect", { x: x.toFixed(1), y: sy(Math.max(p[1], y0)).toFixed(1), width: bw.toFixed(1), height: Math.max(0, sy(y0) - sy(p[1])).toFixed(1), fill: colour, class: "bar" }, g);
        el("title", {}, bar).textContent = `${categories ? categories[j] : p[0]}: ${fmt(p[1])}`;
      });
    } else {
      const d = s.points.map((p, j) => `${j ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
      el("path", { d, fill: "none", stroke: colour, "stroke-width": "2", "stroke-dasharray": DASHES[i % DASHES.length], class: "line" }, g);
    }
  });
  fig.appendChild(svg);

  if (series.length > 1 || bar) {
    const legend = document.createElement("ul");
    legend.className = "legend";
    series.forEach((s, i) => {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.backgroundColor = COLOURS[i % COLOURS.length];
      li.append(sw, document.createTextNode(s.name));
      legend.appendChild(li);
    });
    fig.appendChild(legend);
  }

  const details = document.createElement("details");
  const sum = document.createElement("summary");
  sum.textContent = "Numbers";
  details.appendChild(sum);
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const h of [xLabel].concat(series.map((s) => s.name))) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.appendChild(th);
  }
  const rows = new Map();
  series.forEach((s, i) => {
    s.points.forEach((p, j) => {
      const key = categories ? categories[j] : p[0];
      if (!rows.has(key)) rows.set(key, []);
      rows.get(key)[i] = p[1];
    });
  });
  const tb = table.createTBody();
  let n = 0;
  for (const [k, vals] of rows) {
    if (n++ >= 500) break; // the chart has the rest
    const tr = tb.insertRow();
    tr.insertCell().textContent = k;
    series.forEach((_, i) => (tr.insertCell().textContent = vals[i] === undefined ? "" : fmt(vals[i])));
  }
  details.appendChild(table);
  fig.appendChild(details);
  return fig;
}

// qcFigures turns a QC report (GET .../readset/{id}/qc) into the console's
// five charts.
export function qcFigures(report) {
  const sources = report.sources || [];
  const label = (s) => (s.fileName ? `${s.source} (${s.fileName})` : s.source);
  const figs = [];
  figs.push(chart({
    id: "plot-quality",
    title: "Quality by position (mean, band: lower to upper quartile)",
    xLabel: "Position in read (bp)", yLabel: "Phred quality",
    yMin: 0,
    series: sources.map((s) => ({
      name: label(s),
      points: (s.reads?.positions || []).filter((p) => p.qualities > 0).map((p) => [p.position, p.mean]),
      band: (s.reads?.positions || []).filter((p) => p.qualities > 0).map((p) => [p.position, p.lowerQuartile, p.upperQuartile]),
    })),
  }));
  figs.push(chart({
    id: "plot-gc",
    title: "GC content per read",
    xLabel: "GC (%)", yLabel: "Reads",
    xMin: 0, xMax: 100,
    series: sources.map((s) => ({ name: label(s), points: (s.reads?.gcDistribution || []).map((v, i) => [i, v]) })),
  }));
  figs.push(chart({
    id: "plot-length",
    title: "Read length distribution",
    xLabel: "Read length (bp)", yLabel: "Reads",
    series: sources.map((s) => ({ name: label(s), kind: (s.reads?.lengthDistribution || []).length < 40 ? "bar" : "line",
      points: (s.reads?.lengthDistribution || []).map((l) => [l.length, l.count]) })),
  }));
  const refs = report.alignments?.references || [];
  const depth = refs.some((r) => r.meanDepth);
  figs.push(chart({
    id: "plot-coverage",
    title: depth ? "Coverage per reference (mean depth)" : "Reads per reference",
    xLabel: "Reference", yLabel: depth ? "Mean depth" : "Reads",
    categories: refs.map((r) => r.name),
    series: refs.length ? [{ name: depth ? "mean depth" : "reads", kind: "bar", points: refs.map((r, i) => [i, depth ? r.meanDepth || 0 : r.reads]) }] : [],
  }));
  // A few chimeric pairs reach thousands of bases: draw up to the size
  // that holds 99% of pairs, so that the peak keeps its shape.
  const ins = report.alignments?.insertSizeDistribution || [];
  const pairs = ins.reduce((n, p) => n + p.count, 0);
  let seen = 0;
  const upTo = (ins.find((p) => (seen += p.count) >= pairs * 0.99) || {}).insertSize;
  const drawn = ins.filter((p) => p.insertSize <= upTo);
  figs.push(chart({
    id: "plot-insert",
    title: drawn.length < ins.length ? `Insert sizes (99% of pairs; ${(pairs - drawn.reduce((n, p) => n + p.count, 0)).toLocaleString()} above ${upTo} bp not drawn)` : "Insert sizes",
    xLabel: "Insert size (bp)", yLabel: "Pairs",
    series: drawn.length ? [{ name: "pairs", points: drawn.map((p) => [p.insertSize, p.count]) }] : [],
  }));
  if (!report.alignments) {
    for (const f of figs.slice(3)) {
      const p = f.querySelector("p.empty");
      if (p) p.textContent = "Only aligned read sets (BAM, CRAM) have these.";
    }
  }
  return figs;
}
