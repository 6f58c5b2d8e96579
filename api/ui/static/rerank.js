// Rerank playground: a query and candidate lines, scored by POST /v1/rerank.
"use strict";

Sift.start(async () => {
  const { el, t } = Sift;
  const form = document.getElementById("rerank-form");
  const output = document.getElementById("rerank-results");
  const busy = document.getElementById("rerank-busy");
  const submit = document.getElementById("rerank-submit");
  const note = document.getElementById("reranker-note");
  const reranker = Sift.health.reranker;
  note.hidden = false;
  if (reranker.ready) {
    note.textContent = t("rerank_model", { model: reranker.model || "?", engine: reranker.engine });
  } else {
    note.classList.add("warn");
    note.textContent = reranker.engine === "none" ? t("rerank_none")
      : t("rerank_not_ready", { engine: reranker.engine, error: reranker.error || "" });
    submit.disabled = true;
  }
  if (!Sift.can("query")) submit.disabled = true;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const lines = document.getElementById("rerank-documents").value.split("\n")
      .map((text, index) => ({ text: text.trim(), line: index + 1 }))
      .filter((candidate) => candidate.text);
    if (!lines.length) return;
    const instruction = document.getElementById("rerank-instruction").value.trim();
    submit.disabled = true;
    busy.textContent = t("working");
    try {
      const answer = await Sift.api("/v1/rerank", {
        method: "POST",
        body: { query: document.getElementById("rerank-query").value, documents: lines.map((c) => c.text),
                instruction: instruction || null },
      });
      output.replaceChildren(el("table", { class: "table", id: "rerank-table" },
        el("thead", {}, el("tr", {}, el("th", { class: "num" }, t("rank")), el("th", { class: "num" }, "P(yes)"),
          el("th", { class: "num" }, t("line")), el("th", {}, t("document")))),
        el("tbody", {}, answer.results.map((result, rank) => el("tr", {},
          el("td", { class: "num" }, rank + 1),
          el("td", { class: "num" }, el("span", { class: "bar", style: `--value:${result.relevance_score}` }),
            Sift.score(result.relevance_score)),
          el("td", { class: "num" }, lines[result.index].line),
          el("td", {}, lines[result.index].text))))));
    } catch (error) {
      output.replaceChildren(el("p", { class: "error", role: "alert" },
        error.status === 503 ? t("rerank_unavailable", { message: error.message }) : error.message));
    } finally {
      submit.disabled = !Sift.health.reranker.ready;
      busy.textContent = "";
    }
  });
});
