// The /search/ page: load Pagefind's UI from the index `site-builder build --search` made.
// The bundle is loaded from script, not linked, because a site built without --search
// has none: then the page says so instead of failing on a missing file.
(function () {
  "use strict";

  function unavailable() {
    var note = document.getElementById("search-unavailable");
    if (note) note.hidden = false;
  }

  function start(box) {
    var bundle = box.getAttribute("data-bundle");
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = bundle + "pagefind-ui.css";
    document.head.appendChild(css);
    var script = document.createElement("script");
    script.src = bundle + "pagefind-ui.js";
    script.onerror = unavailable;
    script.onload = function () {
      // baseUrl: result links must stay inside a site served under a sub-path.
      new window.PagefindUI({
        element: "#search",
        baseUrl: box.getAttribute("data-base"),
        showSubResults: true,
        autofocus: true
      });
      var query = new URLSearchParams(window.location.search).get("q");
      var input = box.querySelector("input");
      if (query && input) {
        input.value = query;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
    };
    document.head.appendChild(script);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("search");
    if (box) start(box);
  });
})();
