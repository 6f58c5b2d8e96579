// Knowledge base: the collections this key may use; create, set the rerank instruction, delete.
"use strict";

Sift.start(async () => {
  const form = document.getElementById("create-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const instruction = document.getElementById("create-instruction").value.trim();
    try {
      await Sift.api("/v1/collections", { method: "POST", body: {
        name: document.getElementById("create-name").value.trim(), instruction: instruction || null } });
      form.reset();
      document.getElementById("create-error").textContent = "";
      await load();
    } catch (error) {
      document.getElementById("create-error").textContent = error.message;
    }
  });
  await load();
});

async function load() {
  const { el, t } = Sift;
  const { collections } = await Sift.api("/v1/collections");
  const box = document.getElementById("collections");
  if (!collections.length) {
    box.replaceChildren(el("p", { class: "muted" }, t("kb_empty")));
    return;
  }
  box.replaceChildren(...collections.map((c, i) => {
    const base = `/ui/kb/${encodeURIComponent(c.name)}`;
    const card = el("article", { class: "panel card", "data-collection": c.name },
      el("h2", {}, el("a", { href: base }, c.name)),
      el("p", { class: "muted" }, t("kb_documents", { count: c.documents }), " · ",
        el("a", { href: `/ui/ask?collection=${encodeURIComponent(c.name)}` }, t("nav_ask"))));
    if (Sift.can("admin")) {
      const id = `instruction-${i}`;
      const input = el("input", { id, type: "text", maxlength: 2000, value: c.instruction || "" });
      const saved = el("span", { class: "muted", role: "status" });
      card.append(el("form", { class: "stack", onsubmit: async (event) => {
        event.preventDefault();
        try {
          await Sift.api(`/v1/collections/${encodeURIComponent(c.name)}`, { method: "PATCH",
            body: { instruction: input.value.trim() || null } });
          saved.textContent = t("saved");
        } catch (error) {
          saved.textContent = error.message;
        }
      } }, el("label", { for: id }, t("kb_instruction", { name: c.name })), input,
        el("div", {}, el("button", { type: "submit" }, t("save")), " ", saved)));
      card.append(el("button", { type: "button", class: "danger", onclick: async () => {
        if (!confirm(t("kb_delete_confirm", { name: c.name, count: c.documents }))) return;
        try {
          await Sift.api(`/v1/collections/${encodeURIComponent(c.name)}`, { method: "DELETE" });
          await load();
        } catch (error) {
          Sift.showError(document.getElementById("load-error"), error);
        }
      } }, t("kb_delete", { name: c.name })));
    } else if (c.instruction) {
      card.append(el("p", {}, t("kb_instruction_is", { instruction: c.instruction })));
    }
    return card;
  }));
}
