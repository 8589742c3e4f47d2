/* Pnyx room connection: join with replay, ordered delivery by seq, an outbox that survives reloads.
 * Shared by the room page (room.js) and the facilitator console (console.js). No framework, no CDN. */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }  // never innerHTML: no XSS
    return e;
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function Room(opts) {
    var self = this;
    this.roomId = opts.roomId;
    this.userId = opts.userId;
    this.lastSeq = 0;
    this.buffer = {};             // seq -> message that arrived before its predecessors
    this.hooks = opts;
    this.clockSkew = 0;           // server time - local time, ms
    this.outboxKey = "pnyx.outbox." + this.roomId + "." + this.userId;
    this.outbox = this.loadOutbox();
    this.inflight = {};
    this.joined = false;
    this.gapTimer = null;
    this.socket = window.io(opts.namespace || "/rooms", { reconnectionDelayMax: 5000 });

    this.socket.on("connect", function () { self.status("connecting"); self.join(); });
    this.socket.on("disconnect", function () { self.joined = false; self.inflight = {}; self.status("offline"); });
    this.socket.on("connect_error", function (err) {
      self.status(err && err.message && err.message.indexOf("unauthorized") === 0 ? "unauthorized" : "offline");
    });
    this.socket.on("message", function (m) { if (m.room === self.roomId) { self.receive(m); } });
    this.socket.on("state", function (s) { if (s.room.id === self.roomId) { self.setState(s); } });
    ["presence", "message_hidden", "statement", "reactions", "nudge", "muted", "removed", "breakout",
     "recall"].forEach(function (name) {
      self.socket.on(name, function (data) { self.call("on_" + name, data); });
    });
  }

  Room.prototype.call = function (name, arg) {
    if (typeof this.hooks[name] === "function") { this.hooks[name](arg, this); }
  };
  Room.prototype.status = function (s) { this.call("onStatus", s); };

  Room.prototype.setState = function (s) {
    if (s.server_time) { this.clockSkew = Date.parse(s.server_time) - Date.now(); }
    this.call("onState", s);
  };
  Room.prototype.now = function () { return Date.now() + this.clockSkew; };

  Room.prototype.join = function () {
    var self = this;
    this.socket.timeout(15000).emit("join", { room: this.roomId, last_seq: this.lastSeq }, function (err, res) {
      if (err) { self.status("offline"); return; }
      if (res.error && res.error.code === "unavailable") {  // database restarting: try again shortly
        self.status("offline");
        setTimeout(function () { if (self.socket.connected && !self.joined) { self.join(); } }, 3000);
        return;
      }
      if (res.error) { self.status("error"); self.call("onError", res.error); return; }
      self.joined = true;
      self.status("online");
      self.call("onJoin", res);
      self.setState(res.state);
      res.messages.forEach(function (m) { self.receive(m); });
      if (res.more) { self.fetchAfter(); }
      self.flush();
    });
  };

  /* Deliver in seq order exactly once; a gap waits briefly, then is filled from history. */
  Room.prototype.receive = function (m) {
    if (m.seq <= this.lastSeq) { return; }
    this.buffer[m.seq] = m;
    while (this.buffer[this.lastSeq + 1]) {
      var next = this.buffer[this.lastSeq + 1];
      delete this.buffer[this.lastSeq + 1];
      this.lastSeq = next.seq;
      this.call("onMessage", next);
    }
    var self = this;
    if (Object.keys(this.buffer).length && !this.gapTimer) {
      this.gapTimer = setTimeout(function () { self.gapTimer = null; self.fetchAfter(); }, 1500);
    }
  };

  Room.prototype.fetchAfter = function () {
    var self = this;
    if (!this.joined) { return; }
    this.socket.timeout(15000).emit("history", { room: this.roomId, last_seq: this.lastSeq }, function (err, res) {
      if (err || res.error) { return; }
      res.messages.forEach(function (m) { self.receive(m); });
      if (res.more) { self.fetchAfter(); }
    });
  };

  Room.prototype.loadOutbox = function () {
    try { return JSON.parse(window.localStorage.getItem(this.outboxKey) || "[]"); } catch (e) { return []; }
  };
  Room.prototype.saveOutbox = function () {
    try { window.localStorage.setItem(this.outboxKey, JSON.stringify(this.outbox)); } catch (e) { /* private mode */ }
    this.call("onOutbox", this.outbox);
  };

  /* Queue first, then send: a message typed while offline is sent (once) after reconnecting. */
  Room.prototype.send = function (body) {
    this.outbox.push({ client_id: newId(), body: body });
    this.saveOutbox();
    this.flush();
  };

  Room.prototype.flush = function () {
    var self = this;
    if (!this.joined) { return; }
    this.outbox.forEach(function (item) {
      if (self.inflight[item.client_id]) { return; }
      self.inflight[item.client_id] = true;
      self.socket.timeout(15000).emit("message", { room: self.roomId, body: item.body, client_id: item.client_id },
        function (err, res) {
          delete self.inflight[item.client_id];
          if (err) { return; }  // no answer: it stays in the outbox and is resent after reconnecting
          if (res.error && (res.error.code === "unavailable" || res.error.code === "rate_limited")) {
            setTimeout(function () { self.flush(); }, 3000);
            return;
          }
          self.outbox = self.outbox.filter(function (x) { return x.client_id !== item.client_id; });
          self.saveOutbox();
          if (res.error) { self.call("onError", res.error); }
        });
    });
  };

  /* Any other event, answered through its acknowledgement. */
  Room.prototype.request = function (event, payload, done) {
    var self = this;
    payload.room = payload.room || this.roomId;
    this.socket.timeout(15000).emit(event, payload, function (err, res) {
      if (err) { res = { error: { code: "timeout", message: "No answer from the server; try again." } }; }
      if (res && res.error) { self.call("onError", res.error); }
      if (done) { done(res); }
    });
  };

  function fmtClock(ms) {
    var neg = ms < 0; ms = Math.abs(ms);
    var s = Math.floor(ms / 1000), m = Math.floor(s / 60);
    s = s % 60;
    return (neg ? "−" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function fmtTime(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  window.PnyxRoom = { Room: Room, el: el, fmtClock: fmtClock, fmtTime: fmtTime };
})();
