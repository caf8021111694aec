// Small SVG charts drawn here (no library, nothing fetched from a CDN): line and grouped bars.
// Values may be negative (sentiment runs from -1 to 1): the axis then extends below zero.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2f6fdf", "#1f9d55", "#e8833a", "#9b59b6", "#d64545", "#17a2b8",
                   "#c98a12", "#6b7785", "#e83e8c", "#20c997"];

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
    return 10 * power;
  }

  function fmt(v) {
    if (Math.abs(v) >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + "k";
    if (Math.abs(v) < 1 && v !== 0) return v.toFixed(2);
    return String(Math.round(v * 100) / 100);
  }

  function frame(container, height, maxValue, minValue = 0) {
    container.innerHTML = "";
    const width = Math.max(container.clientWidth || 600, 320);
    const m = {top: 10, right: 12, bottom: 28, left: 44};
    const svg = el("svg", {viewBox: `0 0 ${width} ${height}`, role: "img"}, container);
    const plot = {x: m.left, y: m.top, w: width - m.left - m.right, h: height - m.top - m.bottom};
    const bottom = minValue < 0 ? -niceMax(-minValue) : 0;
    const top = bottom < 0 && !(maxValue > 0) ? 0 : niceMax(maxValue);
    const yOf = (v) => plot.y + plot.h - (plot.h * (v - bottom)) / ((top - bottom) || 1);
    const grid = el("g", {class: "grid"}, svg);
    const axis = el("g", {class: "axis"}, svg);
    for (let i = 0; i <= 4; i++) {
      const y = plot.y + plot.h - (plot.h * i) / 4;
      el("line", {x1: plot.x, x2: plot.x + plot.w, y1: y, y2: y}, grid);
      const t = el("text", {x: plot.x - 6, y: y + 4, "text-anchor": "end"}, axis);
      t.textContent = fmt(bottom + ((top - bottom) * i) / 4);
    }
    const zero = yOf(0);
    el("line", {x1: plot.x, x2: plot.x + plot.w, y1: zero, y2: zero, class: "zero"}, axis);
    return {svg, plot, top, bottom, axis, yOf};
  }

  function legend(container, names, colors = PALETTE) {
    const box = document.createElement("div");
    box.className = "legend";
    names.forEach((name, i) => {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = colors[i % colors.length];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(name));
      box.appendChild(item);
    });
    container.appendChild(box);
  }

  function xLabels(f, labels, xOf) {
    const every = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach((label, i) => {
      if (i % every !== 0 && i !== labels.length - 1) return;
      // the last label ends at the plot's edge instead of running past it
      const anchor = i === labels.length - 1 && labels.length > 1 && xOf(i) > f.plot.x + f.plot.w - 30
        ? "end" : "middle";
      const t = el("text", {x: xOf(i), y: f.plot.y + f.plot.h + 16, "text-anchor": anchor},
                   f.axis);
      t.textContent = label;
    });
  }

  // series: [{name, values}], labels: x labels (same length as values); min / max: a range the
  // axis covers at least (e.g. -1 and 1 for sentiment); colors: one per series
  function line(container, {labels, series, height = 240, min = 0, max = 0, colors = PALETTE}) {
    const values = series.flatMap((s) => s.values.filter((v) => v != null));
    const f = frame(container, height, Math.max(max, ...values), Math.min(min, ...values));
    const n = Math.max(labels.length - 1, 1);
    const xOf = (i) => f.plot.x + (f.plot.w * i) / n;
    const yOf = f.yOf;
    series.forEach((s, si) => {
      const color = colors[si % colors.length];
      const pts = s.values.map((v, i) => (v == null ? null : [xOf(i), yOf(v)]));
      const d = pts.filter(Boolean).map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + " " +
                                                   p[1].toFixed(1)).join(" ");
      el("path", {d, fill: "none", stroke: color, "stroke-width": 2, class: "series"}, f.svg);
      pts.forEach((p, i) => {
        if (!p || (labels.length > 40 && i % 3)) return;
        const dot = el("circle", {cx: p[0], cy: p[1], r: labels.length > 40 ? 1.8 : 3,
                                  fill: color}, f.svg);
        el("title", {}, dot).textContent = `${s.name} · ${labels[i]}: ${fmt(s.values[i])}`;
      });
    });
    xLabels(f, labels, xOf);
    legend(container, series.map((s) => s.name), colors);
    return f.svg;
  }

  // groups: x categories; series: [{name, values (one per group)}]
  function bars(container, {groups, series, height = 240, colors = PALETTE}) {
    const values = series.flatMap((s) => s.values.filter((v) => v != null));
    const f = frame(container, height, Math.max(0, ...values), Math.min(0, ...values));
    const band = f.plot.w / Math.max(groups.length, 1);
    const inner = band * 0.8;
    const barW = inner / Math.max(series.length, 1);
    const xOf = (i) => f.plot.x + band * i + band / 2;
    series.forEach((s, si) => {
      const color = colors[si % colors.length];
      s.values.forEach((v, gi) => {
        if (v == null) return;
        const base = f.yOf(0);
        const h = Math.abs(f.yOf(v) - base);
        const x = f.plot.x + band * gi + (band - inner) / 2 + barW * si;
        const rect = el("rect", {x: x.toFixed(1), y: Math.min(f.yOf(v), base).toFixed(1),
                                 width: Math.max(barW - 2, 1).toFixed(1), height: h.toFixed(1),
                                 fill: color, rx: 2, class: "bar"}, f.svg);
        el("title", {}, rect).textContent = `${s.name} · ${groups[gi]}: ${fmt(v)}`;
      });
    });
    xLabels(f, groups, xOf);
    if (series.length > 1) legend(container, series.map((s) => s.name), colors);
    return f.svg;
  }

  return {line, bars, PALETTE};
})();
