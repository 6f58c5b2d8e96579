// Ask: POST /v1/query and show the passages, the context an integration receives, timings and reranking.
"use strict";

Sift.start(async () => {
  const { el, t } = Sift;
  const select = document.getElementById("ask-collection");
  const { collections } = await Sift.api("/v1/collections");
  const wanted = new URL(location.href).searchParams.get("collection");
  select.replaceChildren(...collections.map((c) =>
    el("option", { value: c.name, selected: c.name === wanted }, `${c.name} (${c.documents})`)));
  if (!collections.length) {
    Sift.showError(document.getElementById("load-error"), t("ask_no_collections"));
  }

  const submit = document.getElementById("ask-submit");
  const busy = document.getElementById("ask-busy");
  document.getElementById("ask-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      question: document.getElementById("ask-question").value,
      collection: select.value,
      top_k: Number(document.getElementById("ask-top-k").value) || 5,
    };
    const mode = document.getElementById("ask-mode").value;
    if (mode) body.mode = mode;
    const instruction = document.getElementById("ask-instruction").value.trim();
    if (instruction) body.instruction = instruction;
    submit.disabled = true;
    busy.textContent = t("working");
    try {
      show(await Sift.api("/v1/query", { method: "POST", body }), body.collection);
    } catch (error) {
      Sift.showError(document.getElementById("load-error"), error);
    } finally {
      submit.disabled = false;
      busy.textContent = "";
    }
  });

  document.getElementById("ask-copy").addEventListener("click", async () => {
    const context = document.getElementById("ask-context");
    try {
      await navigator.clipboard.writeText(context.value);
    } catch {
      context.select();
      document.execCommand("copy");
    }
    document.getElementById("ask-copied").textContent = t("copied");
  });
});

function show(answer, collection) {
  const { el, t } = Sift;
  document.getElementById("load-error").hidden = true;
  document.getElementById("ask-output").hidden = false;
  const reranked = document.getElementById("ask-reranked");
  reranked.classList.toggle("warn", !answer.reranked);
  reranked.textContent = answer.reranked ? t("ask_reranked")
    : t("ask_not_reranked", { why: answer.rerank_error || t("ask_no_reason") });
  document.getElementById("ask-timings").textContent = t("timings") + ": " +
    Object.entries(answer.timings_ms).map(([stage, ms]) => `${stage} ${ms.toFixed(1)} ms`).join(" · ");
  document.getElementById("ask-context").value = answer.context;
  document.getElementById("ask-copied").textContent = "";
  const list = document.getElementById("ask-results");
  if (!answer.results.length) {
    list.replaceChildren(el("li", { class: "muted" }, t("ask_nothing")));
    return;
  }
  list.replaceChildren(...answer.results.map((r) => {
    const page = `/ui/kb/${encodeURIComponent(collection)}/document?id=${encodeURIComponent(r.doc_id)}`;
    return el("li", { class: "result" },
      el("div", { class: "result-head" },
        el("span", { class: "cite" }, `[${r.rank}]`),
        el("a", { href: page, class: "title" }, r.title || r.doc_id),
        r.url ? el("a", { href: r.url, class: "source", target: "_blank", rel: "noopener" }, t("source")) : null),
      r.heading ? el("div", { class: "heading" }, r.heading) : null,
      el("div", { class: "scores" },
        `${answer.reranked ? t("score_final_reranked") : t("score_final")} ${Sift.score(r.score)} · ` +
        `${t("score_retrieval")} ${Sift.score(r.retrieval_score)}`),
      el("p", { class: "text" }, r.text));
  }));
}
