// Inline SVG charts of a project's daily series: enough to see a trend, no library.

const NS = "http://www.w3.org/2000/svg";
const W = 600;
const H = 160;
const PAD = { left: 30, right: 10, top: 10, bottom: 22 };

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

function frame(label, days, max) {
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
  const bottom = H - PAD.bottom;
  root.append(svg("line", { class: "axis", x1: PAD.left, y1: bottom, x2: W - PAD.right, y2: bottom }));
  root.append(svg("text", { x: 0, y: PAD.top + 8 }, String(max)));
  root.append(svg("text", { x: 0, y: bottom }, "0"));
  if (days.length) {
    root.append(svg("text", { x: PAD.left, y: H - 6 }, days[0].date));
    root.append(svg("text", { x: W - PAD.right, y: H - 6, "text-anchor": "end" }, days.at(-1).date));
  }
  return root;
}

function xOf(index, count) {
  const width = W - PAD.left - PAD.right;
  return PAD.left + (count <= 1 ? width / 2 : (index * width) / (count - 1));
}

function yOf(value, max) {
  return H - PAD.bottom - (value / max) * (H - PAD.top - PAD.bottom);
}

/** Average quality score per day (0-100); days without a scored call leave a gap. */
export function scoreChart(days) {
  const root = frame("Daily quality score", days, 100);
  let path = "";
  let pen = "M";
  days.forEach((day, i) => {
    if (day.averageQualityScore === null) {
      pen = "M";
      return;
    }
    const x = xOf(i, days.length);
    const y = yOf(day.averageQualityScore, 100);
    path += `${pen}${x.toFixed(1)},${y.toFixed(1)} `;
    pen = "L";
    root.append(svg("circle", { cx: x, cy: y, r: 2.5, fill: "currentColor" }, undefined));
    root.lastChild.append(svg("title", {}, `${day.date}: ${day.averageQualityScore.toFixed(1)}`));
  });
  root.append(svg("path", { class: "line", d: path.trim() }));
  return root;
}

/** Calls per day. */
export function volumeChart(days) {
  const max = Math.max(1, ...days.map((d) => d.records));
  const root = frame("Daily volume", days, max);
  const slot = (W - PAD.left - PAD.right) / Math.max(1, days.length);
  days.forEach((day, i) => {
    const y = yOf(day.records, max);
    const bar = svg("rect", {
      class: "bar",
      x: PAD.left + i * slot + slot * 0.15,
      y,
      width: slot * 0.7,
      height: H - PAD.bottom - y,
    });
    bar.append(svg("title", {}, `${day.date}: ${day.records}`));
    root.append(bar);
  });
  return root;
}
