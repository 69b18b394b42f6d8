// The relay-mesos dashboard: polls /status and /api/history and renders them.
"use strict";
(function () {
  const REFRESH_MS = 1500;
  const $ = (id) => document.getElementById(id);
  const C = window.RelayChart;
  let last = { status: null, history: null, err: null };

  function text(id, v, title) {
    const el = $(id);
    if (el.textContent !== v) el.textContent = v;
    if (title !== undefined) el.title = title;
  }

  function pill(id, label, cls) {
    const el = $(id);
    el.textContent = label;
    el.className = "pill " + (cls || "");
  }

  function dur(sec) {
    sec = Math.max(0, Math.round(sec));
    if (sec < 60) return sec + " s";
    if (sec < 3600) return Math.floor(sec / 60) + " min " + (sec % 60) + " s";
    return Math.floor(sec / 3600) + " h " + Math.floor((sec % 3600) / 60) + " min";
  }

  const signed = (v) => (v > 0 ? "+" : "") + C.fmtNum(v);

  function renderHeader(st, h) {
    const role = st.role || "unknown";
    const badge = $("role");
    badge.className = "badge role-" + role;
    const roleText = { leader: "leader", follower: "follower", candidate: "candidate", standalone: "standalone" }[role] || role;
    badge.textContent = roleText;
    badge.setAttribute("aria-label", "This replica's role: " + roleText);
    text("self", (st.id || "?") + (st.address ? " · " + st.address : ""));
    if (st.leader && st.leader.id) {
      text("leader", st.leader.id + (st.leader.address ? " · " + st.leader.address : ""));
      text("term", String(st.leader.token));
    } else if (role === "standalone") {
      text("leader", "this replica (no ZooKeeper)"); text("term", "–");
    } else {
      text("leader", "none known"); text("term", "–");
    }
    const src = h && h.source === "leader" ? "leader's data via this follower" : "this replica's data";
    text("source", src, h && h.note ? h.note : "");
  }

  function renderBanner(h, fetchErr) {
    const b = $("banner");
    b.replaceChildren();
    let msg = null;
    if (fetchErr) msg = "Cannot reach this replica: " + fetchErr + ". Showing the last data received.";
    else if (h && h.error) msg = h.error + ". ";
    if (!msg) { b.hidden = true; return; }
    b.append(msg);
    if (!fetchErr && h.leader_url) {
      const a = document.createElement("a");
      a.href = h.leader_url; a.textContent = "Open the leader's dashboard";
      b.append(a);
    }
    b.hidden = false;
  }

  function renderCards(local, h) {
    const pts = h.points || [];
    const p = pts.length ? pts[pts.length - 1] : null;
    const ds = h.status || local; // the status of the replica whose data this is
    if (!p) {
      text("c-metric", "–"); text("c-target", "–"); text("c-error", "–");
    } else {
      text("c-metric", p.metric === null ? "miss" : C.fmtNum(p.metric));
      $("c-metric").className = "big mono" + (p.metric === null ? " alarm" : "");
      text("c-target", p.target === null ? "miss" : C.fmtNum(p.target));
      text("c-error", p.metric === null || p.target === null ? "–" : signed(p.target - p.metric));
    }
    const l = ds.ledger || { warmer: {}, cooler: {} };
    const kc = (k) => (l[k].running || 0) + " / " + (l[k].pending || 0) + (l[k].ungranted ? " (+" + l[k].ungranted + " waiting)" : "");
    text("c-warmers", kc("warmer")); text("c-coolers", kc("cooler"));
    // Starvation: the current streak from the newest points.
    let streakStart = null;
    for (let i = pts.length - 1; i >= 0 && pts[i].starved; i--) streakStart = i > 0 ? pts[i - 1].t : pts[i].t;
    const starvedNow = p && p.starved;
    text("c-starved", !p ? "–" : starvedNow ? "starved" : "enough");
    $("c-starved").className = "big " + (!p ? "" : starvedNow ? "alarm" : "good");
    const starvedTicks = pts.filter((q) => q.starved).length;
    text("c-starved-sub", starvedNow ? "for " + dur((p.t - streakStart) / 1000) + " (requests not fully granted)"
      : starvedTicks ? starvedTicks + " starved ticks in view" : "every request granted");
    const m = ds.mesos || {};
    pill("c-mesos", m.subscribed ? "subscribed" : "not subscribed", m.subscribed ? "ok" : (ds.role === "follower" ? "" : "bad"));
    pill("c-deciding", m.deciding ? "deciding" : "not deciding", m.deciding ? "ok" : "");
    text("c-fid", ds.framework_id || "not assigned yet", ds.framework_id || "");
    const age = p && ds.time ? (Date.parse(ds.time) - p.t) / 1000 : null;
    text("c-age", age === null ? "" : age < 1.5 ? "· live" : "· last tick " + dur(age) + " ago");
    $("c-age").className = "unit" + (age !== null && age > 10 ? " alarm" : "");
    const zk = local.zookeeper || {};
    const zkCls = zk.state === "connected" ? "ok" : zk.state === "none" ? "" : "bad";
    pill("c-zk", zk.state === "none" ? "not used" : zk.state || "?", zkCls);
    text("c-zk-sub", zk.state === "none" ? "standalone: state in a local file"
      : zk.lost_seconds > 0 ? "not connected for " + dur(zk.lost_seconds) : "session live");
  }

  function renderEvents(local, h) {
    const ds = h.status || local;
    let evs = (ds.events || []).map((e) => Object.assign({ where: "" }, e));
    if (h.source === "leader") {
      evs = evs.map((e) => Object.assign(e, { where: "leader" }))
        .concat((local.events || []).map((e) => Object.assign({ where: "this replica" }, e)));
      text("events-of", "(leader's and this replica's)");
    } else text("events-of", "");
    evs.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
    evs = evs.slice(0, 40);
    const ol = $("events");
    const items = evs.map((e) => {
      const li = document.createElement("li");
      const t = document.createElement("span");
      t.className = "t mono"; t.textContent = C.fmtTime(Date.parse(e.time));
      const body = document.createElement("span");
      const k = document.createElement("span");
      k.className = "kind kind-" + e.kind; k.textContent = e.kind.replace("_", " ");
      body.append(k, e.message + (e.where ? " (" + e.where + ")" : ""));
      if (e.count > 1) { const c = document.createElement("span"); c.className = "count"; c.textContent = "×" + e.count; body.append(c); }
      li.append(t, body);
      return li;
    });
    if (!items.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = "no events yet"; items.push(li); }
    ol.replaceChildren(...items);
  }

  function tickMs(pts) {
    if (pts.length < 2) return 1000;
    const d = [];
    for (let i = Math.max(1, pts.length - 20); i < pts.length; i++) d.push(pts[i].t - pts[i - 1].t);
    d.sort((a, b) => a - b);
    return Math.max(1, d[Math.floor(d.length / 2)]);
  }

  function renderCharts(h) {
    const pts = h.points || [];
    const tm = tickMs(pts);
    const main = $("chart"), tasks = $("tasks");
    const r = C.drawMain(main, pts, tm);
    main.dataset.points = r.points; main.dataset.gaps = r.gaps; main.dataset.targetPoints = r.targetPoints;
    const p = pts.length ? pts[pts.length - 1] : null;
    main.setAttribute("aria-label", "Metric and target over the last " + Math.round((r.xr[1] - r.xr[0]) / 60000) + " minutes: " +
      r.points + " metric points, " + r.gaps + " gaps from source misses" +
      (p ? "; latest metric " + (p.metric === null ? "missing" : C.fmtNum(p.metric)) + ", target " + (p.target === null ? "missing" : C.fmtNum(p.target)) : ""));
    const t = C.drawTasks(tasks, pts, r.xr, tm);
    tasks.dataset.bars = t.bars;
    tasks.setAttribute("aria-label", "Tasks over time: " + t.bars + " launch bars" +
      (p ? "; running now " + p.running.warmer + " warmers, " + p.running.cooler + " coolers" : ""));
  }

  function render(fetchErr) {
    const st = last.status, h = last.history;
    if (!st || !h) { renderBanner(null, fetchErr); return; }
    renderHeader(st, h);
    renderBanner(h, fetchErr);
    renderCards(st, h);
    renderEvents(st, h);
    renderCharts(h);
    document.body.dataset.ready = "1";
  }

  async function getJSON(path) {
    const r = await fetch(path, { cache: "no-store" });
    if (r.status !== 200 && r.status !== 502) throw new Error(path + ": HTTP " + r.status);
    return r.json(); // /api/history answers 502 with a body when the leader cannot be reached
  }

  async function refresh() {
    let err = null;
    try {
      const [st, h] = await Promise.all([getJSON("/status"), getJSON("/api/history")]);
      last.status = st; last.history = h;
      text("updated", "updated " + C.fmtTime(Date.now()));
    } catch (e) {
      err = e.message || String(e);
    }
    last.err = err;
    render(err);
    setTimeout(refresh, REFRESH_MS);
  }

  window.addEventListener("resize", () => render(last.err));
  refresh();
})();
