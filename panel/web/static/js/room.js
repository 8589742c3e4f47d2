/* The participant's room page: messages, composer, speaking queue, agenda timer, statements. */
(function () {
  "use strict";
  var app = document.getElementById("room-app");
  if (!app || !window.PnyxRoom) { return; }
  var P = window.PnyxRoom, el = P.el, L = app.dataset;
  var roomId = parseInt(L.room, 10), userId = parseInt(L.user, 10);
  var list = document.getElementById("messages");
  var statusEl = document.getElementById("conn-status");
  var notice = document.getElementById("notice");
  var handBtn = document.getElementById("hand-btn");
  var composer = document.getElementById("composer");
  var bodyEl = document.getElementById("body");
  var pendingEl = document.getElementById("pending");
  var state = null, myHand = false, canPost = app.dataset.canPost === "1";
  var statementsEl = document.getElementById("statements");
  var statementNodes = {};

  function show(text, href, hrefText) {
    notice.textContent = "";
    notice.appendChild(el("span", null, text));
    if (href) { var a = el("a", null, " " + hrefText); a.href = href; notice.appendChild(a); }
    notice.hidden = false;
  }

  function renderMessage(m) {
    var li = el("li", "msg" + (m.author.id === userId ? " mine" : ""));
    li.id = "m" + m.seq;
    li.dataset.seq = m.seq;
    var head = el("div", "msg-head");
    head.appendChild(el("strong", null, m.author.name));
    head.appendChild(el("span", "muted", " " + P.fmtTime(m.created_at)));
    li.appendChild(head);
    li.appendChild(el("p", "msg-body" + (m.hidden ? " hidden-msg" : ""), m.hidden ? (m.body || L.lHidden) : m.body));
    if (m.hidden && m.hidden_reason) { li.appendChild(el("p", "muted", L.lReason + " " + m.hidden_reason)); }
    return li;
  }

  function atBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 60; }

  function renderState(s) {
    state = s;
    var floor = document.getElementById("floor");
    floor.textContent = "";
    if (s.floor) {
      floor.appendChild(el("strong", null, s.floor.name));
      if (s.floor.deadline_at) { floor.appendChild(el("span", "timer", "")).dataset.deadline = s.floor.deadline_at; }
    } else { floor.appendChild(el("span", "muted", L.lNoFloor)); }
    var q = document.getElementById("queue");
    q.textContent = "";
    myHand = false;
    s.queue.forEach(function (h) { q.appendChild(el("li", null, h.name)); if (h.user_id === userId) { myHand = true; } });
    if (!s.queue.length) { q.appendChild(el("li", "muted", L.lNoQueue)); }
    handBtn.textContent = myHand ? L.lLower : L.lRaise;
    handBtn.setAttribute("aria-pressed", myHand ? "true" : "false");
    renderPresence(s);
    var ag = document.getElementById("agenda");
    ag.textContent = "";
    s.agenda.forEach(function (a) {
      var li = el("li", "agenda-" + a.status, a.title);
      if (a.status === "running" && a.deadline_at) { li.appendChild(el("span", "timer", "")).dataset.deadline = a.deadline_at; }
      ag.appendChild(li);
    });
    if (!s.agenda.length) { ag.appendChild(el("li", "muted", L.lNoAgenda)); }
    tick();
  }

  function renderPresence(s) {
    var pres = document.getElementById("presence");
    pres.textContent = "";
    s.presence.forEach(function (p) { pres.appendChild(el("li", null, p.name)); });
    if (s.observers) { pres.appendChild(el("li", "muted", L.lObservers.replace("%n", s.observers))); }
  }

  function tick() {
    document.querySelectorAll(".timer").forEach(function (t) {
      var left = Date.parse(t.dataset.deadline) - room.now();
      t.textContent = " " + P.fmtClock(left);
      t.classList.toggle("overtime", left < 0);
    });
  }
  setInterval(tick, 1000);

  function renderStatement(st) {
    var li = statementNodes[st.id];
    if (!li) {
      li = el("li", "statement card");
      li.appendChild(el("p", null, st.body));
      li.appendChild(el("p", "muted", st.author.name));
      var row = el("div", "row reacts");
      ["agree", "disagree", "pass"].forEach(function (v) {
        var b = el("button", "button small", L["l" + v[0].toUpperCase() + v.slice(1)]);
        b.type = "button";
        b.dataset.value = v;
        b.disabled = !canPost;
        b.addEventListener("click", function () {
          room.request("react", { statement_id: st.id, value: v }, function (res) {
            if (!res.error) { li.dataset.mine = v; paint(li, res.counts); }
          });
        });
        row.appendChild(b);
      });
      li.appendChild(row);
      li.appendChild(el("p", "muted counts", ""));
      statementNodes[st.id] = li;
      statementsEl.appendChild(li);
    }
    if (st.mine) { li.dataset.mine = st.mine; }
    paint(li, st.counts);
  }

  function paint(li, counts) {
    li.querySelector(".counts").textContent = L.lCounts.replace("%a", counts.agree).replace("%d", counts.disagree)
      .replace("%p", counts.pass);
    li.querySelectorAll("button").forEach(function (b) {
      b.setAttribute("aria-pressed", li.dataset.mine === b.dataset.value ? "true" : "false");
    });
  }

  var room = new P.Room({
    roomId: roomId, userId: userId,
    onStatus: function (s) {
      statusEl.textContent = L["lStatus" + s[0].toUpperCase() + s.slice(1)] || s;
      statusEl.className = "badge conn-" + s;
    },
    onJoin: function (res) {
      canPost = res.you.can_post;
      composer.hidden = !canPost;
      handBtn.hidden = !canPost;
      res.statements.forEach(renderStatement);
      if (res.breakout) { show(L.lBreakout + " " + res.breakout.name + ".", "/rooms/" + res.breakout.id, L.lGo); }
    },
    onMessage: function (m) {
      var stick = atBottom();
      var empty = document.getElementById("no-messages");
      if (empty) { empty.remove(); }
      list.appendChild(renderMessage(m));
      if (stick || m.author.id === userId) { list.scrollTop = list.scrollHeight; }
    },
    onState: renderState,
    onOutbox: function (box) { pendingEl.textContent = box.length ? L.lPending.replace("%n", box.length) : ""; },
    onError: function (e) { show(e.message); },
    on_presence: function (p) { if (state && p.room === roomId) { state.presence = p.presence; state.observers = p.observers; renderPresence(state); } },
    on_message_hidden: function (h) {
      var li = document.getElementById("m" + h.seq);
      if (li && h.room === roomId) { var b = li.querySelector(".msg-body"); b.textContent = L.lHidden; b.classList.add("hidden-msg"); }
    },
    on_statement: function (st) { if (st.room === roomId) { renderStatement(st); } },
    on_reactions: function (r) { var li = statementNodes[r.statement_id]; if (li) { paint(li, r.counts); } },
    on_nudge: function (n) { show(n.from + ": " + n.text); },
    on_muted: function (m) { show(m.until ? L.lMuted : L.lUnmuted); },
    on_removed: function (r) { if (r.room === roomId) { composer.hidden = true; handBtn.hidden = true; show(L.lRemoved); } },
    on_breakout: function (b) { window.location.assign("/rooms/" + b.breakout.id); },
    on_recall: function (r) { if (r.room === roomId) { window.location.assign("/rooms/" + r.plenary); } }
  });
  pendingEl.textContent = room.outbox.length ? L.lPending.replace("%n", room.outbox.length) : "";

  composer.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = bodyEl.value.trim();
    if (!text) { return; }
    room.send(text);
    bodyEl.value = "";
  });
  bodyEl.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); composer.requestSubmit(); }
  });
  handBtn.addEventListener("click", function () { room.request("hand", { raised: !myHand }); });
  var sform = document.getElementById("statement-form");
  sform.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = document.getElementById("statement-body");
    if (!input.value.trim()) { return; }
    room.request("statement", { body: input.value.trim() }, function (res) { if (!res.error) { input.value = ""; } });
  });
  notice.addEventListener("click", function (ev) { if (ev.target === notice) { notice.hidden = true; } });
  window.pnyxRoom = room;  // for the browser tests
})();
