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

  // The overlay is drawn in a shadow root, out of reach of the site's selectors. Its
  // host has a name of its own, so `div` or `pre` rules do not match it, and
  // `all: initial` (plus `direction`, which `all` leaves alone) drops what the page
  // would pass down: colour, font, white-space... Inside a shadow root, !important
  // beats anything the page says about the host, even `display: none !important`.
  // Sizes are in px, not rem: the page decides what a rem is.
  const OVERLAY_CSS = `
    :host {
      all: initial !important; direction: ltr !important; display: block !important;
      position: fixed !important; inset: 0 !important; z-index: 2147483647 !important;
      color-scheme: light dark !important;
    }
    :host::before, :host::after { content: none !important; }
    .box {
      box-sizing: border-box; height: 100%; overflow: auto; overscroll-behavior: contain;
      padding: 24px;
      background: #fff; color: #1f2328; font: 14px/1.5 ui-monospace, monospace;
    }
    .title { margin: 0 0 16px; font: bold 16px/1.4 system-ui, sans-serif; color: #a40e0e; }
    pre {
      margin: 0 0 12px; padding: 8px 12px; border-left: 4px solid #c62828;
      background: #fff0f0; color: inherit; font: inherit;
      white-space: pre-wrap; overflow-wrap: anywhere;
    }
    @media (prefers-color-scheme: dark) {
      .box { background: #17181c; color: #eceff3; }
      .title { color: #ff9d9d; }
      pre { background: #2b1619; border-left-color: #ff6b6b; }
    }`;

  const overlayBox = () => {
    const host = document.getElementById(OVERLAY);
    if (host) return host.shadowRoot.querySelector(".box");
    const fresh = document.createElement(OVERLAY);
    fresh.id = OVERLAY;
    const shadow = fresh.attachShadow({ mode: "open" }); // open: tests look inside
    const style = document.createElement("style");
    style.textContent = OVERLAY_CSS;
    const box = document.createElement("div");
    box.className = "box";
    box.setAttribute("role", "alert");
    shadow.append(style, box);
    // On <html>, not <body>: a page that hides its body keeps the overlay.
    document.documentElement.append(fresh);
    // In the top layer, where browsers have popovers: above any z-index the page gives
    // its own fixed elements (html::after included), clear of its opacity and filters.
    if (fresh.showPopover) {
      fresh.popover = "manual";
      fresh.showPopover();
    }
    return box;
  };

  // `title` may come with the errors, in the site's language; English otherwise.
  const showErrors = ({ errors: lines, title: given }) => {
    const title = document.createElement("p");
    title.className = "title";
    title.dir = "auto";
    const count = lines.length;
    title.textContent =
      typeof given === "string" && given
        ? given
        : `Build failed: ${count} error${count === 1 ? "" : "s"}. ` +
          "This page is the last good build; fix the files and it updates.";
    const items = lines.map((line) => {
      const pre = document.createElement("pre");
      pre.textContent = line; // text, never HTML: messages quote the user's files
      return pre;
    });
    overlayBox().replaceChildren(title, ...items);
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
    showErrors(JSON.parse(event.data));
  });
  source.addEventListener("ok", (event) => {
    heard(event);
    document.getElementById(OVERLAY)?.remove();
  });
})();
