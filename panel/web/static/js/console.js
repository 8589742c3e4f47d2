/* The facilitator console: floor, queue, agenda timers, equity by group, moderation, breakouts. */
(function () {
  "use strict";
  var app = document.getElementById("console-app");
  if (!app || !window.PnyxRoom) { return; }
  var P = window.PnyxRoom, el = P.el, L = app.dataset;
  var roomId = parseInt(L.room, 10);
  var notice = document.getElementById("notice");

  function show(text) { notice.textContent = text; notice.hidden = false; }
  function button(label, cls, onClick) {
    var b = el("button", "button small " + (cls || ""), label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }
  function ask(event, payload, withReason) {
    if (withReason) {
      var reason = window.prompt(L.lReasonPrompt);
      if (!reason) { return; }
      payload.reason = reason;
    }
    room.request(event, payload, function (res) { if (res && !res.error) { refreshEquity(); } });
  }

  function renderState(s) {
    var floor = document.getElementById("floor");
    floor.textContent = "";
    if (s.floor) {
      floor.appendChild(el("strong", null, s.floor.name));
      if (s.floor.deadline_at) { floor.appendChild(el("span", "timer", "")).dataset.deadline = s.floor.deadline_at; }
    } else { floor.appendChild(el("span", "muted", L.lNoFloor)); }
    var q = document.getElementById("queue");
    q.textContent = "";
    s.queue.forEach(function (h) {
      var li = el("li", "row", h.name + " ");
      li.appendChild(button(L.lGive, "primary", function () { ask("floor_give", { user_id: h.user_id }); }));
      q.appendChild(li);
    });
    if (!s.queue.length) { q.appendChild(el("li", "muted", L.lNoQueue)); }
    var ag = document.getElementById("agenda");
    ag.textContent = "";
    s.agenda.forEach(function (a) {
      var li = el("li", "row agenda-" + a.status, a.title + " (" + Math.round(a.duration_s / 60) + " min) ");
      if (a.status === "running" && a.deadline_at) {
        li.appendChild(el("span", "timer", "")).dataset.deadline = a.deadline_at;
        li.appendChild(button(L.lPlus, "", function () { ask("agenda_extend", { item_id: a.id, seconds: 120 }); }));
        li.appendChild(button(L.lDone, "", function () { ask("agenda_done", { item_id: a.id }); }));
      } else if (a.status === "pending") {
        li.appendChild(button(L.lStart, "primary", function () { ask("agenda_start", { item_id: a.id }); }));
      }
      ag.appendChild(li);
    });
    if (!s.agenda.length) { ag.appendChild(el("li", "muted", L.lNoAgenda)); }
    var bo = document.getElementById("breakouts");
    if (bo) {
      bo.textContent = "";
      s.breakouts.forEach(function (b) {
        var li = el("li", null, b.name + " (" + b.members + ") ");
        var a = el("a", null, L.lVisit);
        a.href = "/rooms/" + b.id;
        li.appendChild(a);
        bo.appendChild(li);
      });
    }
    tick();
  }

  function tick() {
    document.querySelectorAll(".timer").forEach(function (t) {
      var left = Date.parse(t.dataset.deadline) - room.now();
      t.textContent = " " + P.fmtClock(left);
      t.classList.toggle("overtime", left < 0);
    });
  }
  setInterval(tick, 1000);

  function bar(share, cls) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 100 8");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "bar " + (cls || ""));
    svg.setAttribute("aria-hidden", "true");
    var track = document.createElementNS(ns, "rect");
    track.setAttribute("width", "100"); track.setAttribute("height", "8"); track.setAttribute("class", "track");
    var fill = document.createElementNS(ns, "rect");
    fill.setAttribute("width", String(Math.round(share * 1000) / 10)); fill.setAttribute("height", "8");
    svg.appendChild(track); svg.appendChild(fill);
    return svg;
  }
  function pct(x) { return Math.round(x * 100) + "%"; }

  function renderEquity(st) {
    var box = document.getElementById("equity-groups");
    box.textContent = "";
    if (!st.people.length) { Object.keys(st.groups).forEach(function (k) { st.groups[k] = []; }); }
    Object.keys(st.groups).forEach(function (feature) {
      if (!st.groups[feature].length) { return; }
      var table = el("table", "table equity-table");
      var cap = el("caption", null, feature.replace("_", " "));
      table.appendChild(cap);
      st.groups[feature].forEach(function (g) {
        var tr = el("tr");
        tr.appendChild(el("th", null, g.value));
        var people = el("td", null, pct(g.people_share) + " ");
        people.appendChild(bar(g.people_share, "people"));
        var speak = el("td", null, pct(g.speaking_share) + " ");
        speak.appendChild(bar(g.speaking_share, "speaking"));
        var msgs = el("td", null, pct(g.message_share) + " ");
        msgs.appendChild(bar(g.message_share, "messages"));
        tr.appendChild(people); tr.appendChild(speak); tr.appendChild(msgs);
        table.appendChild(tr);
      });
      box.appendChild(table);
    });
    var tbody = document.getElementById("equity-people");
    tbody.textContent = "";
    st.people.forEach(function (p) {
      var tr = el("tr", p.online ? "" : "offline");
      var name = el("td", null, p.name + " ");
      if (p.quiet) { name.appendChild(el("span", "badge", L.lQuiet)); }
      tr.appendChild(name);
      tr.appendChild(el("td", null, Math.round(p.speaking_s) + " s · " + p.turns));
      tr.appendChild(el("td", null, p.messages));
      var act = el("td", "row");
      act.appendChild(button(L.lGive, "", function () { ask("floor_give", { user_id: p.user_id }); }));
      act.appendChild(button(L.lNudge, "", function () { ask("nudge", { user_id: p.user_id }); }));
      act.appendChild(button(L.lMute, "", function () { ask("mute", { user_id: p.user_id, minutes: 5 }); }));
      act.appendChild(button(L.lUnmute, "", function () { ask("mute", { user_id: p.user_id, minutes: 0 }); }));
      act.appendChild(button(L.lRemove, "danger", function () { ask("remove", { user_id: p.user_id }, true); }));
      tr.appendChild(act);
      tbody.appendChild(tr);
    });
    if (!st.people.length) { var tr = el("tr"); var td = el("td", "muted", L.lNone); td.colSpan = 4; tr.appendChild(td); tbody.appendChild(tr); }
  }

  var eqTimer = null;
  function refreshSoon() { if (!eqTimer) { eqTimer = setTimeout(function () { eqTimer = null; refreshEquity(); }, 1000); } }
  function refreshEquity() { if (room.joined) { room.request("equity", {}, function (res) { if (!res.error) { renderEquity(res); } }); } }
  setInterval(refreshEquity, 5000);

  var list = document.getElementById("messages");
  function renderMessage(m) {
    var li = el("li", "msg");
    li.id = "m" + m.seq;
    var head = el("div", "msg-head row");
    head.appendChild(el("strong", null, m.author.name));
    head.appendChild(el("span", "muted", "#" + m.seq + " " + P.fmtTime(m.created_at)));
    if (!m.hidden) { head.appendChild(button(L.lHide, "danger", function () { ask("hide", { seq: m.seq }, true); })); }
    li.appendChild(head);
    li.appendChild(el("p", "msg-body" + (m.hidden ? " hidden-msg" : ""), m.body));
    if (m.hidden_reason) { li.appendChild(el("p", "muted", L.lReason + " " + m.hidden_reason)); }
    return li;
  }

  var room = new P.Room({
    roomId: roomId, userId: parseInt(L.user, 10),
    onStatus: function (s) { var st = document.getElementById("conn-status"); st.textContent = L["lStatus" + s[0].toUpperCase() + s.slice(1)] || s; st.className = "badge conn-" + s; },
    onJoin: function () { refreshEquity(); },
    onState: function (s) { renderState(s); refreshSoon(); },
    onMessage: function (m) { list.appendChild(renderMessage(m)); list.scrollTop = list.scrollHeight; refreshSoon(); },
    on_presence: function () { refreshSoon(); },
    onError: function (e) { show(e.message); },
    on_message_hidden: function (h) {
      var li = document.getElementById("m" + h.seq);
      if (li) { li.querySelector(".msg-body").classList.add("hidden-msg"); var b = li.querySelector("button"); if (b) { b.remove(); } }
    }
  });

  document.getElementById("end-floor").addEventListener("click", function () { ask("floor_end", {}); });
  document.getElementById("agenda-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var title = document.getElementById("agenda-title");
    var minutes = parseInt(document.getElementById("agenda-minutes").value, 10) || 10;
    room.request("agenda_add", { title: title.value, duration_s: minutes * 60 }, function (res) { if (!res.error) { title.value = ""; } });
  });
  var openBtn = document.getElementById("breakouts-open");
  if (openBtn) {
    openBtn.addEventListener("click", function () {
      room.request("breakouts_open", {}, function (res) {
        if (!res.error) { show(L.lOpened.replace("%g", res.groups.length).replace("%r", res.round).replace("%p", res.repeat_pairs)); }
      });
    });
    document.getElementById("breakouts-close").addEventListener("click", function () { room.request("breakouts_close", {}); });
  }
  window.pnyxConsole = room;
})();
