// The console's shared code: messages, the API key, calls to Sift's HTTP API, and a small DOM builder.
"use strict";

const KEY_NAME = "sift-api-key";
const MESSAGES = JSON.parse(document.getElementById("sift-messages").textContent);

const Sift = {
  health: null,
  me: null,

  /** The message `name` in the page's language, with {placeholders} filled from `vars`. */
  t(name, vars = {}) {
    let text = MESSAGES[name] ?? name;
    for (const [key, value] of Object.entries(vars)) text = text.replaceAll(`{${key}}`, String(value));
    return text;
  },

  key() {
    return sessionStorage.getItem(KEY_NAME) || localStorage.getItem(KEY_NAME);
  },

  forgetKey() {
    sessionStorage.removeItem(KEY_NAME);
    localStorage.removeItem(KEY_NAME);
  },

  /** Call the HTTP API with the visitor's key; throws an Error carrying the server's message and status. */
  async api(path, { method = "GET", body, form } = {}) {
    const headers = {};
    const key = Sift.key();
    if (key) headers.Authorization = `Bearer ${key}`;
    let payload;
    if (form) payload = form;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(path, { method, headers, body: payload });
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error(data?.error?.message || `HTTP ${response.status}`);
      error.status = response.status;
      error.code = data?.error?.code;
      throw error;
    }
    return data;
  },

  /** Whether the visitor's key holds `scope` (admin holds every scope). */
  can(scope) {
    return !!Sift.me && (Sift.me.scopes.includes("admin") || Sift.me.scopes.includes(scope));
  },

  /** An element with attributes (on* are listeners) and children (strings become text, never HTML). */
  el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  },

  score(value) {
    return Number(value).toFixed(4);
  },

  time(seconds) {
    return new Date(seconds * 1000).toLocaleString(document.documentElement.lang);
  },

  showError(element, error) {
    element.hidden = false;
    element.textContent = error instanceof Error ? error.message : String(error);
  },

  /** Run the page's `init` once the visitor is known; ask for a key first where the server requires one. */
  start(init) {
    document.addEventListener("DOMContentLoaded", async () => {
      try {
        if (await identify()) await init();
      } catch (error) {
        Sift.showError(document.getElementById("load-error"), error);
      }
    });
  },
};

async function identify() {
  // Both at once: a page should not wait for one round trip after another.
  const [health, me] = await Promise.allSettled([Sift.api("/health"), Sift.api("/v1/whoami")]);
  if (health.status === "rejected") throw health.reason;
  Sift.health = health.value;
  const content = document.getElementById("content");
  const who = document.getElementById("who");
  if (me.status === "rejected") {
    if (me.reason.status !== 401) throw me.reason;
    content.hidden = true;
    document.getElementById("key-panel").hidden = false;
    if (Sift.key()) {
      Sift.forgetKey();
      document.getElementById("key-error").textContent = me.reason.message;
    }
    return false;
  }
  Sift.me = me.value;
  if (Sift.health.auth === "keys") {
    const where = Sift.me.collections ? Sift.me.collections.join(", ") : Sift.t("all_collections");
    who.textContent = Sift.t("who_key", { name: Sift.me.name, scopes: Sift.me.scopes.join(", "), collections: where });
    document.getElementById("forget-key").hidden = false;
  } else {
    who.textContent = Sift.t(Sift.health.auth === "off" ? "who_off" : "who_open");
  }
  for (const element of document.querySelectorAll("[data-needs]")) {
    element.hidden = !Sift.can(element.dataset.needs);
  }
  return true;
}

document.getElementById("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const secret = document.getElementById("api-key").value.trim();
  const storage = document.getElementById("key-remember").checked ? localStorage : sessionStorage;
  storage.setItem(KEY_NAME, secret);
  try {
    await Sift.api("/v1/whoami");
    location.reload();
  } catch (error) {
    Sift.forgetKey();
    document.getElementById("key-error").textContent = error.message;
  }
});

document.getElementById("forget-key").addEventListener("click", () => {
  Sift.forgetKey();
  location.reload();
});

document.getElementById("lang").addEventListener("change", (event) => {
  const url = new URL(location.href);
  url.searchParams.set("lang", event.target.value);
  location.assign(url);
});
