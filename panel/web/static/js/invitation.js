// Pre-selects the browser's time zone on the invitation page when the account still has the default.
(function () {
  "use strict";
  var select = document.querySelector("select[data-guess]");
  if (!select || select.value !== "UTC" || !window.Intl) { return; }
  var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === tz) { select.value = tz; return; }
  }
}());
