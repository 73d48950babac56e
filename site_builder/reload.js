// Live reload for `site-builder serve`, injected into pages as they are served.
// Reloads this page when its file changed, swaps stylesheets that changed,
// and shows the errors of a failed build over the page until a build works.
(() => {
  "use strict";
  const me = document.currentScript;
  const file = (me && me.dataset.file) || "";
  const notFound = Boolean(me && me.dataset.status === "404");
  const since = (me && me.dataset.generation) || "";
  const OVERLAY = "site-builder-errors";
  // The URL path the site lives under ("/" or "/project/"), as in its base_url.
  const base = (me && me.dataset.base) || "/";

  // The output file a URL path names, as the server maps it.
  const fileFor = (path) => {
    const decoded = decodeURIComponent(path);
    const inside = decoded.startsWith(base) ? decoded.slice(base.length) : decoded;
    const rel = inside.replace(/^\/+/, "");
    return rel === "" || rel.endsWith("/") ? rel + "index.html" : rel;
  };

  const affected = (change) => {
    if (change.all || change.files.includes(file)) return true;
    // A "not found" page reloads when its address comes into being.
    const here = location.pathname;
    if (notFound && [fileFor(here), fileFor(here + "/")].some((f) => change.files.includes(f))) {
      return true;
    }
    // Images, scripts and fonts may be used by any page: reload rather than show a stale one.
    return change.files.some((f) => !/\.(html|css|xml|json|txt)$/i.test(f));
  };

  const swapStyles = (files, version) => {
    for (const link of document.querySelectorAll('link[rel~="stylesheet"]')) {
      const url = new URL(link.href, location.href);
      if (url.origin !== location.origin || !files.includes(fileFor(url.pathname))) continue;
      url.searchParams.set("site-builder", version);
      const fresh = link.cloneNode();
      fresh.href = url.href;
      // The old sheet goes once the new one applies, so the page never shows unstyled.
      fresh.addEventListener("load", () => link.remove(), { once: true });
      link.after(fresh);
    }
  };

  const showErrors = (lines) => {
    let box = document.getElementById(OVERLAY);
    if (!box) {
      box = document.createElement("div");
      box.id = OVERLAY;
      box.setAttribute("role", "alert");
      box.style.cssText =
        "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:1.5rem;" +
        "background:rgba(20,0,0,.92);color:#fdd;font:14px/1.5 ui-monospace,monospace;";
      document.documentElement.append(box);
    }
    const title = document.createElement("p");
    title.style.cssText = "margin:0 0 1rem;font-weight:bold;color:#fff";
    const count = lines.length;
    title.textContent =
      `Build failed: ${count} error${count === 1 ? "" : "s"}. ` +
      "This page is the last good build; fix the files and it updates.";
    const items = lines.map((line) => {
      const pre = document.createElement("pre");
      pre.style.cssText = "margin:0 0 .75rem;white-space:pre-wrap;";
      pre.textContent = line; // text, never HTML: messages quote the user's files
      return pre;
    });
    box.replaceChildren(title, ...items);
  };

  // What the script last heard, for tests and the curious.
  const state = { generation: since, connected: false };
  window.siteBuilderPreview = state;
  const heard = (event) => {
    state.connected = true;
    state.generation = event.lastEventId;
  };

  const source = new EventSource("/__site_builder__/events?since=" + encodeURIComponent(since));
  source.addEventListener("reload", (event) => {
    heard(event);
    const change = JSON.parse(event.data);
    if (affected(change)) location.reload();
    else swapStyles(change.files, event.lastEventId);
  });
  source.addEventListener("css", (event) => {
    heard(event);
    swapStyles(JSON.parse(event.data).files, event.lastEventId);
  });
  // EventSource also fires a plain "error" when the connection drops: only ours has data.
  source.addEventListener("error", (event) => {
    if (!event.data) return;
    heard(event);
    showErrors(JSON.parse(event.data).errors);
  });
  source.addEventListener("ok", (event) => {
    heard(event);
    document.getElementById(OVERLAY)?.remove();
  });
})();
