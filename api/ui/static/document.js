// One document: its catalog entry and the chunks of its live version, as the index holds them.
"use strict";

Sift.start(async () => {
  const { el, t } = Sift;
  const box = document.getElementById("document");
  const collection = box.dataset.collection;
  const docId = box.dataset.docId;
  const path = `/v1/collections/${encodeURIComponent(collection)}/documents/` +
    docId.split("/").map(encodeURIComponent).join("/");
  const { document: doc, chunks } = await Sift.api(`${path}/chunks`);
  document.getElementById("doc-heading").textContent = doc.title || doc.id;
  const link = doc.url ? el("a", { href: doc.url, target: "_blank", rel: "noopener" }, doc.url) : "—";
  const rows = [[t("doc_id"), doc.id], [t("doc_url"), link], [t("doc_source"), doc.source || "—"],
    [t("doc_type"), doc.content_type], [t("doc_chunks"), doc.chunks], [t("doc_updated"), Sift.time(doc.updated_at)],
    [t("doc_hash"), el("span", { class: "mono" }, doc.content_hash.slice(0, 16))]];
  document.getElementById("doc-meta").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  // Cleaning warnings, where ingestion records them for the document.
  if (doc.warnings?.length) {
    document.getElementById("doc-warnings").hidden = false;
    document.getElementById("doc-warning-list").replaceChildren(...doc.warnings.map((w) => el("li", {}, w)));
  }
  document.getElementById("chunks-title").textContent = t("doc_chunks_count", { count: chunks.length });
  document.getElementById("chunks").replaceChildren(...chunks.map((c) => el("li", { class: "chunk" },
    el("div", { class: "chunk-head" }, el("span", { class: "cite" }, `#${c.index}`), " ",
      el("span", { class: "heading" }, c.heading || t("doc_no_heading"))),
    el("p", { class: "text" }, c.text))));
  document.getElementById("doc-delete").addEventListener("click", async () => {
    if (!confirm(t("doc_delete_confirm", { id: doc.id }))) return;
    await Sift.api(path, { method: "DELETE" });
    location.assign(`/ui/kb/${encodeURIComponent(collection)}`);
  });
});
