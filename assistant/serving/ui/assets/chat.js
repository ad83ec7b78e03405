// Citation cards for the conversation (gr.HTML js_on_load; `element` is the component's element).
// Every [n] marker is a <button data-cite="KEY">; the card's content was built and escaped on the
// server and sits hidden in the same answer as <div data-cite-src="KEY">. This script only clones
// those nodes into one floating card: it never turns text into HTML.
(() => {
  const root = element;
  let card = null;
  let pinned = null; // the marker whose card is pinned open

  // A re-render (streaming, a new answer) replaces the nodes; a pin on a node that is gone is no pin.
  function isPinned() {
    return !!(pinned && root.contains(pinned) && card && root.contains(card) && !card.hidden);
  }

  function ensureCard() {
    card = root.querySelector(".nqa-card");
    if (!card) {
      card = document.createElement("div");
      card.className = "nqa-card";
      card.hidden = true;
      const chat = root.querySelector(".nqa-chat") || root;
      chat.appendChild(card);
    }
    return card;
  }

  function place(marker) {
    const r = marker.getBoundingClientRect();
    const c = card.getBoundingClientRect();
    const vw = window.innerWidth, vh = window.innerHeight;
    let left = Math.min(Math.max(8, r.left - 24), vw - c.width - 8);
    let top = r.bottom + 8;
    if (top + c.height > vh - 8 && r.top - c.height - 8 > 8) top = r.top - c.height - 8;
    card.style.left = `${Math.max(8, left)}px`;
    card.style.top = `${Math.max(8, Math.min(top, vh - c.height - 8))}px`;
  }

  function show(marker, pin, flash = true) {
    const key = marker.getAttribute("data-cite");
    const src = Array.from(root.querySelectorAll("[data-cite-src]")).find((n) => n.getAttribute("data-cite-src") === key);
    if (!src) return;
    ensureCard();
    card.replaceChildren(...Array.from(src.childNodes).map((n) => n.cloneNode(true)));
    const close = document.createElement("button");
    close.type = "button";
    close.className = "nqa-card-close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "×";
    card.appendChild(close);
    card.setAttribute("data-for", key);
    card.setAttribute("role", "dialog");
    card.classList.toggle("nqa-pinned", !!pin);
    root.querySelectorAll(".nqa-cite.nqa-active").forEach((m) => m.classList.remove("nqa-active"));
    marker.classList.add("nqa-active");
    card.hidden = false;
    place(marker);
    pinned = null;
    if (pin) {
      pinned = marker;
      if (flash) flashSource(marker.getAttribute("data-chunk"));
    }
  }

  function hide() {
    if (!card) return;
    card.hidden = true;
    card.classList.remove("nqa-pinned");
    pinned = null;
    root.querySelectorAll(".nqa-cite.nqa-active").forEach((m) => m.classList.remove("nqa-active"));
  }

  function flashSource(chunk) {
    if (!chunk) return;
    const panel = document.getElementById("nqa-sources");
    if (!panel) return;
    const src = Array.from(panel.querySelectorAll("[data-chunk]")).find((n) => n.getAttribute("data-chunk") === chunk);
    if (!src) return;
    src.open = true;
    src.classList.remove("nqa-flash");
    void src.offsetWidth;
    src.classList.add("nqa-flash");
  }

  root.addEventListener("click", (ev) => {
    const marker = ev.target.closest(".nqa-cite");
    if (marker && root.contains(marker)) {
      ev.preventDefault();
      if (isPinned() && pinned === marker) hide();
      else show(marker, true);
      return;
    }
    if (ev.target.closest(".nqa-card-close")) { hide(); return; }
    if (!ev.target.closest(".nqa-card")) hide();
  });
  root.addEventListener("mouseover", (ev) => {
    const marker = ev.target.closest(".nqa-cite");
    if (marker && !isPinned()) show(marker, false);
  });
  root.addEventListener("mouseout", (ev) => {
    const marker = ev.target.closest(".nqa-cite");
    if (marker && !isPinned() && !(ev.relatedTarget && marker.contains(ev.relatedTarget))) hide();
  });
  root.addEventListener("focusin", (ev) => {
    const marker = ev.target.closest(".nqa-cite");
    if (marker && !isPinned()) show(marker, false);
  });
  // While a later answer streams in, the conversation is re-rendered many times a second: a card the
  // user pinned is put back on its (re-rendered) marker instead of vanishing.
  let pinnedKey = null;
  root.addEventListener("click", () => { pinnedKey = isPinned() ? pinned.getAttribute("data-cite") : null; });
  if (typeof watch === "function") {
    watch("value", () => {
      if (!pinnedKey || isPinned()) return;
      const marker = Array.from(root.querySelectorAll(".nqa-cite")).find((m) => m.getAttribute("data-cite") === pinnedKey);
      if (marker) show(marker, true, false); else pinnedKey = null;
    });
  }
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { pinnedKey = null; hide(); } });
  document.addEventListener("click", (ev) => { if (isPinned() && !root.contains(ev.target)) { pinnedKey = null; hide(); } });
  window.addEventListener("resize", () => { if (isPinned()) place(pinned); });
  // Keep the card at its marker while anything scrolls (scroll events reach window in the capture phase).
  window.addEventListener("scroll", (ev) => {
    if (!card || card.hidden || (ev.target instanceof Node && card.contains(ev.target))) return;
    const marker = root.querySelector(".nqa-cite.nqa-active");
    if (marker) place(marker); else hide();
  }, true);
})();
