// Live updates: the server sends the page's <main> again, rendered and
// escaped on the server, whenever a figure changes (server-sent events).
"use strict";
(function () {
  const main = document.getElementById("live");
  if (!main || !main.dataset.stream) { return; }
  let source = null;
  function connect() {
    source = new EventSource(main.dataset.stream);
    source.addEventListener("snapshot", function (ev) {
      main.innerHTML = JSON.parse(ev.data);
      document.body.dataset.link = "live";
    });
    source.onerror = function () {
      document.body.dataset.link = "lost";
      if (source.readyState === EventSource.CLOSED) {
        // Refused (the login expired) or the service went away: the page
        // itself says which after a reload (it sends to the login page).
        setTimeout(function () { window.location.reload(); }, 5000);
      }
    };
  }
  connect();
})();
