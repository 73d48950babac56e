// The /search/ page: load Pagefind's UI from the index `site-builder build --search` made.
// The bundle is loaded from script, not linked, because a site built without --search
// has none: then the page says so instead of failing on a missing file.
// A large site's index is split in shards: the first bundle's entry file lists the
// others (relative to it), and Pagefind's UI merges them into one list of results.
(function () {
  "use strict";

  var SHARDS_KEY = "site_builder_shards";

  function unavailable() {
    var note = document.getElementById("search-unavailable");
    if (note) note.hidden = false;
  }

  // The other shards' bundles, as absolute paths; none for an index of one bundle, or
  // when the entry file cannot be read (Pagefind then says what is wrong).
  function shards(bundle) {
    var entry = new URL(bundle + "pagefind-entry.json", window.location.href);
    return fetch(entry.href, { cache: "no-cache" })
      .then(function (reply) { return reply.ok ? reply.json() : {}; })
      .then(function (found) {
        var listed = (found && found[SHARDS_KEY]) || [];
        return listed.map(function (rel) { return new URL(rel, entry.href).pathname; });
      })
      .catch(function () { return []; });
  }

  function load(bundle) {
    return new Promise(function (resolve) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = bundle + "pagefind-ui.css";
      document.head.appendChild(css);
      var script = document.createElement("script");
      script.src = bundle + "pagefind-ui.js";
      script.onerror = unavailable;
      script.onload = resolve;
      document.head.appendChild(script);
    });
  }

  function show(box, others) {
    // baseUrl: result links must stay inside a site served under a sub-path; each
    // merged bundle takes it too, or its links would start at the host's root.
    var base = box.getAttribute("data-base");
    new window.PagefindUI({
      element: "#search",
      baseUrl: base,
      showSubResults: true,
      autofocus: true,
      mergeIndex: others.map(function (path) { return { bundlePath: path, baseUrl: base }; })
    });
    var query = new URLSearchParams(window.location.search).get("q");
    var input = box.querySelector("input");
    if (query && input) {
      input.value = query;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function start(box) {
    var bundle = box.getAttribute("data-bundle");
    // Both at once: the list of shards costs no round trip of its own.
    var listed = shards(bundle);
    load(bundle).then(function () { return listed; }).then(function (others) {
      show(box, others);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("search");
    if (box) start(box);
  });
})();
