// Polls a background job's JSON status and updates the progress bar; goes on when it finishes.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || !box.dataset.jobUrl) { return; }
  var bar = box.querySelector("progress");
  var message = document.getElementById("job-message");
  var status = document.getElementById("job-status");
  var delay = 700;
  function show(data) {
    if (bar) { bar.value = data.progress; bar.textContent = Math.round(data.progress * 100) + "%"; }
    if (message) { message.textContent = data.message + (data.error ? " — " + data.error : ""); }
    if (status) { status.dataset.status = data.status; status.textContent = status.textContent.split(":")[0] + ": " + data.status; }
  }
  function poll() {
    fetch(box.dataset.jobUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        show(data);
        if (data.status === "done") { window.location.assign(box.dataset.doneUrl); return; }
        if (data.status === "failed") { return; }
        setTimeout(poll, delay);
      })
      .catch(function () { delay = Math.min(delay * 2, 10000); setTimeout(poll, delay); });
  }
  setTimeout(poll, delay);
}());
