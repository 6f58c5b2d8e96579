// Status: GET /health as cards (store, index, embedder, reranker, ingestion queue, access, version).
"use strict";

Sift.start(async () => {
  const refresh = async () => render(await Sift.api("/health"));
  document.getElementById("status-refresh").addEventListener("click", refresh);
  render(Sift.health);
  setInterval(refresh, 5000);
});

function render(h) {
  const { el, t } = Sift;
  const overall = document.getElementById("status-overall");
  overall.textContent = h.status === "ok" ? t("status_ok") : t("status_degraded");
  overall.classList.toggle("warn", h.status !== "ok");
  const yes = (ready) => el("span", { class: ready ? "good" : "bad" }, ready ? t("ready") : t("not_ready"));
  const card = (title, rows) => el("article", { class: "panel card" }, el("h2", {}, title),
    el("dl", { class: "meta" }, rows.filter(Boolean).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
  const index = h.store.index;
  document.getElementById("status-cards").replaceChildren(
    card(t("status_store"), [[t("status_state"), yes(h.store.ready)], [t("status_backend"), h.store.backend],
      [t("status_points"), h.store.points ?? "—"], h.store.error && [t("status_error"), h.store.error],
      h.store.location && [t("status_location"), h.store.location]]),
    card(t("status_index"), index ? [[t("status_unindexed"), index.unindexed_points],
      [t("status_rebuilds"), index.rebuilds], [t("status_error"), index.error || "—"]]
      : [[t("status_backend"), t("status_index_server")]]),
    card(t("status_embedder"), [[t("status_state"), yes(h.embedder.ready)], [t("status_model"), h.embedder.model]]),
    card(t("status_reranker"), [[t("status_state"), yes(h.reranker.ready)], [t("status_engine"), h.reranker.engine],
      [t("status_model"), h.reranker.model || "—"], [t("status_queued"), h.reranker.queued],
      h.reranker.error && [t("status_error"), h.reranker.error]]),
    card(t("status_jobs"), h.jobs ? [[t("status_jobs_queued"), h.jobs.queued], [t("status_jobs_running"), h.jobs.running]]
      : [[t("status_state"), "—"]]),
    card(t("status_access"), [[t("status_auth"), t(`auth_${h.auth}`)], [t("status_version"), h.version || "—"]]),
  );
}
