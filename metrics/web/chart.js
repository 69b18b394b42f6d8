// Canvas charts of the relay-mesos dashboard. No library: lines with gaps at null values,
// shaded spans, bars and time axes. Exposes window.RelayChart.
"use strict";
(function () {
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const PAD = { left: 62, right: 14, top: 10, bottom: 24 };

  // prepare sizes the canvas for the device pixel ratio and returns its 2D context and size.
  function prepare(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(50, canvas.clientWidth), h = Math.max(50, canvas.clientHeight);
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "12px system-ui, 'DejaVu Sans', sans-serif";
    return { ctx, w, h, pw: w - PAD.left - PAD.right, ph: h - PAD.top - PAD.bottom };
  }

  // niceTicks returns about n round tick values covering [lo, hi].
  function niceTicks(lo, hi, n) {
    const span = hi - lo || 1;
    const raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
    return out;
  }

  function fmtNum(v) {
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
    if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
    return v.toFixed(a >= 10 ? 1 : 2);
  }

  function fmtTime(ms) {
    const d = new Date(ms);
    return d.toTimeString().slice(0, 8);
  }

  // frame draws the grid, the y ticks and the time axis.
  function frame(g, xr, yr, yTicks) {
    const { ctx, pw, ph } = g;
    ctx.strokeStyle = "#e6eaf0"; ctx.fillStyle = css("--muted") || "#5b6675"; ctx.lineWidth = 1;
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const v of yTicks) {
      const y = yOf(g, yr, v);
      ctx.beginPath(); ctx.moveTo(PAD.left, y + .5); ctx.lineTo(PAD.left + pw, y + .5); ctx.stroke();
      ctx.fillText(fmtNum(v), PAD.left - 8, y);
    }
    const span = xr[1] - xr[0];
    const steps = [5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5];
    const step = steps.find((s) => span / s <= Math.max(2, Math.floor(pw / 110))) || 36e5;
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (let t = Math.ceil(xr[0] / step) * step; t <= xr[1]; t += step) {
      const x = xOf(g, xr, t);
      ctx.beginPath(); ctx.moveTo(x + .5, PAD.top); ctx.lineTo(x + .5, PAD.top + ph); ctx.stroke();
      ctx.fillText(fmtTime(t), x, PAD.top + ph + 6);
    }
    ctx.strokeStyle = "#c3ccd7";
    ctx.strokeRect(PAD.left + .5, PAD.top + .5, pw, ph);
  }

  const xOf = (g, xr, t) => PAD.left + ((t - xr[0]) / (xr[1] - xr[0] || 1)) * g.pw;
  const yOf = (g, yr, v) => PAD.top + (1 - (v - yr[0]) / (yr[1] - yr[0] || 1)) * g.ph;

  // spans returns [start, end] time ranges where pred(point) holds; a span reaches to the
  // next point's time (or half a tick past the last point).
  function spans(points, pred, tick) {
    const out = [];
    let start = null;
    points.forEach((p, i) => {
      const next = i + 1 < points.length ? points[i + 1].t : p.t + tick / 2;
      if (pred(p)) {
        if (start === null) start = i > 0 ? (points[i - 1].t + p.t) / 2 : p.t - tick / 2;
        if (i + 1 === points.length || !pred(points[i + 1])) { out.push([start, (p.t + next) / 2]); start = null; }
      }
    });
    return out;
  }

  function shade(g, xr, ranges, fill, dashed) {
    const { ctx, ph } = g;
    for (const [a, b] of ranges) {
      const x0 = Math.max(PAD.left, xOf(g, xr, a)), x1 = Math.min(PAD.left + g.pw, xOf(g, xr, b));
      if (x1 <= x0) continue;
      ctx.fillStyle = fill; ctx.fillRect(x0, PAD.top, x1 - x0, ph);
      if (dashed) {
        ctx.save(); ctx.strokeStyle = dashed; ctx.setLineDash([4, 3]);
        ctx.strokeRect(x0 + .5, PAD.top + .5, x1 - x0 - 1, ph - 1); ctx.restore();
      }
    }
  }

  // line draws values with gaps at null; returns the number of points drawn and of gaps.
  function line(g, xr, yr, points, get, color, opts) {
    const { ctx } = g;
    ctx.save(); ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = opts.width || 2;
    ctx.lineJoin = "round"; if (opts.dash) ctx.setLineDash(opts.dash);
    let drawn = 0, runs = 0, open = false, prevY = null, runLen = 0, lastX = 0, lastY = 0;
    const dot = (x, y) => { ctx.beginPath(); ctx.arc(x, y, 2.5, 0, 2 * Math.PI); ctx.fill(); };
    const isolated = [];
    ctx.beginPath();
    for (const p of points) {
      const v = get(p);
      if (v === null || v === undefined || !isFinite(v)) {
        if (open && runLen === 1) isolated.push([lastX, lastY]);
        open = false; runLen = 0;
        continue;
      }
      const x = xOf(g, xr, p.t), y = yOf(g, yr, v);
      if (!open) { ctx.moveTo(x, y); open = true; runs++; }
      else if (opts.step) { ctx.lineTo(x, prevY); ctx.lineTo(x, y); }
      else ctx.lineTo(x, y);
      prevY = y; lastX = x; lastY = y; runLen++; drawn++;
    }
    ctx.stroke();
    if (open && runLen === 1) isolated.push([lastX, lastY]);
    ctx.setLineDash([]);
    for (const [x, y] of isolated) dot(x, y);
    ctx.restore();
    return { drawn, gaps: Math.max(0, runs - 1) };
  }

  function xRange(points, minSpan) {
    const last = points.length ? points[points.length - 1].t : Date.now();
    const first = points.length ? points[0].t : last;
    return [Math.min(first, last - minSpan), last];
  }

  function termLines(g, xr, points) {
    const { ctx } = g;
    ctx.save(); ctx.strokeStyle = "#6b46c1"; ctx.fillStyle = "#6b46c1"; ctx.setLineDash([2, 3]); ctx.lineWidth = 1.5;
    ctx.textAlign = "left"; ctx.textBaseline = "top";
    for (let i = 1; i < points.length; i++) {
      if (points[i].token === points[i - 1].token) continue;
      const x = xOf(g, xr, points[i].t);
      ctx.beginPath(); ctx.moveTo(x + .5, PAD.top); ctx.lineTo(x + .5, PAD.top + g.ph); ctx.stroke();
      ctx.fillText("term " + points[i].token, x + 4, PAD.top + 3);
    }
    ctx.restore();
  }

  function empty(g, text) {
    g.ctx.fillStyle = css("--muted") || "#5b6675"; g.ctx.textAlign = "center"; g.ctx.textBaseline = "middle";
    g.ctx.font = "14px system-ui, 'DejaVu Sans', sans-serif";
    g.ctx.fillText(text, PAD.left + g.pw / 2, PAD.top + g.ph / 2);
  }

  // drawMain draws metric and target; returns {points, gaps, targetPoints, xr}.
  function drawMain(canvas, points, tickMs) {
    const g = prepare(canvas);
    const xr = xRange(points, 120000);
    const vals = [];
    for (const p of points) { if (p.metric !== null) vals.push(p.metric); if (p.target !== null) vals.push(p.target); }
    let lo = vals.length ? Math.min(...vals) : 0, hi = vals.length ? Math.max(...vals) : 1;
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    const pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
    const ticks = niceTicks(lo, hi, Math.max(3, Math.floor(g.ph / 45)));
    const yr = [Math.min(lo, ticks[0]), Math.max(hi, ticks[ticks.length - 1])];
    shade(g, xr, spans(points, (p) => p.starved, tickMs), "rgba(217, 119, 6, .16)");
    shade(g, xr, spans(points, (p) => p.metric === null || p.target === null, tickMs), "rgba(196, 43, 28, .10)", "rgba(196, 43, 28, .55)");
    frame(g, xr, yr, ticks);
    termLines(g, xr, points);
    const t = line(g, xr, yr, points, (p) => p.target, css("--target") || "#d97706", { dash: [7, 4], step: true, width: 2 });
    const m = line(g, xr, yr, points, (p) => p.metric, css("--metric") || "#1f5fd1", { width: 2.25 });
    if (!points.length) empty(g, "waiting for the first tick…");
    return { points: m.drawn, gaps: m.gaps, targetPoints: t.drawn, xr };
  }

  // drawTasks draws launches as bars and running tasks as step lines on the same time axis.
  function drawTasks(canvas, points, xr, tickMs) {
    const g = prepare(canvas);
    let hi = 1;
    for (const p of points) hi = Math.max(hi, p.running.warmer, p.running.cooler, p.granted.warmer, p.granted.cooler);
    const ticks = niceTicks(0, hi * 1.1, Math.max(2, Math.floor(g.ph / 35)));
    const yr = [0, Math.max(hi * 1.1, ticks[ticks.length - 1])];
    shade(g, xr, spans(points, (p) => p.starved, tickMs), "rgba(217, 119, 6, .16)");
    frame(g, xr, yr, ticks);
    const { ctx } = g;
    const pxPerTick = (tickMs / (xr[1] - xr[0] || 1)) * g.pw;
    const bw = Math.max(3, Math.min(10, pxPerTick * 0.42));
    const off = pxPerTick >= 7 ? bw : bw / 2; // side by side when there is room, else centred
    let bars = 0;
    for (const p of points) {
      const x = xOf(g, xr, p.t), y0 = yOf(g, yr, 0);
      if (p.granted.warmer > 0) {
        ctx.fillStyle = "rgba(209, 67, 47, .55)";
        ctx.fillRect(x - off, yOf(g, yr, p.granted.warmer), bw, y0 - yOf(g, yr, p.granted.warmer)); bars++;
      }
      if (p.granted.cooler > 0) {
        ctx.fillStyle = "rgba(14, 143, 168, .55)";
        ctx.fillRect(pxPerTick >= 7 ? x : x - off, yOf(g, yr, p.granted.cooler), bw, y0 - yOf(g, yr, p.granted.cooler)); bars++;
      }
    }
    line(g, xr, yr, points, (p) => p.running.warmer, css("--warmer") || "#d1432f", { step: true, width: 2 });
    line(g, xr, yr, points, (p) => p.running.cooler, css("--cooler") || "#0e8fa8", { step: true, width: 2, dash: [5, 2] });
    if (!points.length) empty(g, "no ticks yet");
    return { bars };
  }

  window.RelayChart = { drawMain, drawTasks, fmtNum, fmtTime };
})();
