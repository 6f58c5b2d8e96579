// One collection: upload by drag and drop (files, folders, zip) followed as jobs; documents paged and searched.
"use strict";

const COLLECTION = document.getElementById("collection-name").dataset.collection;
const BASE = `/v1/collections/${encodeURIComponent(COLLECTION)}`;
const PAGE_SIZE = 20;
const FILES_PER_REQUEST = 20;
let offset = 0;
let search = "";

Sift.start(async () => {
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search = document.getElementById("doc-search").value.trim();
    offset = 0;
    listDocuments();
  });
  document.getElementById("page-prev").addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE_SIZE);
    listDocuments();
  });
  document.getElementById("page-next").addEventListener("click", () => {
    offset += PAGE_SIZE;
    listDocuments();
  });
  for (const id of ["upload-files", "upload-folder"]) {
    const input = document.getElementById(id);
    input.addEventListener("change", () => {
      upload([...input.files].map((file) => ({ file, name: file.webkitRelativePath || file.name })));
      input.value = "";
    });
  }
  const zone = document.getElementById("dropzone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const entries = [...event.dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
    upload(entries.length ? (await Promise.all(entries.map(readEntry))).flat()
      : [...event.dataTransfer.files].map((file) => ({ file, name: file.name })));
  });
  zone.addEventListener("click", () => document.getElementById("upload-files").click());
  await listDocuments();
});

/** Every file under a dropped file or folder entry, named by its path inside the drop. */
async function readEntry(entry) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [{ file, name: entry.fullPath.replace(/^\//, "") }];
  }
  const reader = entry.createReader();
  const children = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    children.push(...batch);
  }
  return (await Promise.all(children.map(readEntry))).flat();
}

async function upload(files) {
  if (!files.length) return;
  const { el, t } = Sift;
  const progress = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const problems = document.getElementById("upload-problems");
  problems.replaceChildren();
  progress.hidden = false;
  progress.value = 0;
  status.textContent = t("upload_sending", { count: files.length });
  const jobs = [];
  for (let start = 0; start < files.length; start += FILES_PER_REQUEST) {
    const form = new FormData();
    for (const { file, name } of files.slice(start, start + FILES_PER_REQUEST)) form.append("files", file, name);
    try {
      jobs.push(await Sift.api(`${BASE}/documents?async=true`, { method: "POST", form }));
    } catch (error) {
      problems.append(el("li", { class: "error" }, error.message));
    }
  }
  let states = [];
  while (jobs.length) {
    states = await Promise.all(jobs.map((job) => Sift.api(job.status_url)));
    const total = states.reduce((n, s) => n + s.files.total, 0);
    const finished = states.reduce((n, s) => n + s.files.done + s.files.failed, 0);
    progress.value = total ? finished / total : 0;
    status.textContent = t("upload_progress", { done: finished, total,
      chunks: states.reduce((n, s) => n + s.chunks_done, 0) });
    if (states.every((s) => s.state === "done" || s.state === "failed")) break;
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  const documents = states.flatMap((s) => s.documents);
  const errors = states.flatMap((s) => s.errors);
  status.textContent = t("upload_done", { written: documents.length, failed: errors.length });
  for (const s of states) if (s.error) problems.append(el("li", { class: "error" }, s.error));
  for (const e of errors) problems.append(el("li", { class: "error" }, `${e.file}: ${e.error}`));
  // Cleaning warnings, where ingestion reports them per document.
  for (const d of documents) {
    for (const warning of d.warnings || []) problems.append(el("li", { class: "warn" }, `${d.id}: ${warning}`));
  }
  await listDocuments();
}

async function listDocuments() {
  const { el, t } = Sift;
  const body = document.getElementById("documents");
  const params = new URLSearchParams({ limit: PAGE_SIZE, offset });
  if (search) params.set("q", search);
  let page;
  try {
    page = await Sift.api(`${BASE}/documents?${params}`);
  } catch (error) {
    if (error.status !== 404) throw error;
    page = { documents: [], total: 0 };
  }
  body.replaceChildren(...page.documents.map((d) => el("tr", {},
    el("td", {}, el("a", { href: `/ui/kb/${encodeURIComponent(COLLECTION)}/document?id=${encodeURIComponent(d.id)}` },
      d.title || d.id)),
    el("td", { class: "mono" }, d.id),
    el("td", { class: "num" }, d.chunks),
    el("td", {}, Sift.time(d.updated_at)),
    el("td", {}, Sift.can("write") ? el("button", { type: "button", class: "danger small",
      "aria-label": t("doc_delete_named", { id: d.id }), onclick: async () => {
        if (!confirm(t("doc_delete_confirm", { id: d.id }))) return;
        await Sift.api(`${BASE}/documents/${d.id.split("/").map(encodeURIComponent).join("/")}`,
          { method: "DELETE" });
        await listDocuments();
      } }, t("delete")) : null))));
  if (!page.documents.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "muted" },
      search ? t("doc_none_found") : t("doc_none"))));
  }
  document.getElementById("page-info").textContent = page.total
    ? t("page_info", { from: offset + 1, to: offset + page.documents.length, total: page.total }) : "";
  document.getElementById("page-prev").disabled = offset === 0;
  document.getElementById("page-next").disabled = offset + PAGE_SIZE >= page.total;
}
