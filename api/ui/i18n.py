"""The console's interface text in English and Chinese, and which of them a visitor gets."""

from __future__ import annotations

LANGUAGES = {"en": "English", "zh": "中文"}

EN = {
    "nav_label": "Console", "nav_rerank": "Rerank", "nav_ask": "Ask", "nav_kb": "Knowledge base",
    "nav_status": "Status", "nav_api": "API docs", "language": "Language",
    "key_title": "API key required",
    "key_help": "This server requires an API key. The console sends it as 'Authorization: Bearer' and shows only "
                "what the key may see and do.",
    "key_label": "API key", "key_remember": "Remember on this computer", "key_use": "Use key",
    "key_forget": "Forget key", "who_open": "Open server (loopback, no keys)", "who_off": "API keys are off",
    "who_key": "Key {name} · {scopes} · {collections}", "all_collections": "all collections",
    "loading": "Loading…", "working": "Working…", "results": "Results", "rank": "Rank", "line": "Line",
    "document": "Document", "documents": "Documents", "collection": "Collection", "save": "Save", "saved": "Saved",
    "delete": "Delete", "search": "Search", "previous": "Previous", "next": "Next", "refresh": "Refresh",
    "copy": "Copy", "copied": "Copied", "source": "source", "timings": "Timings", "ready": "ready",
    "not_ready": "not ready",
    "instruction_optional": "Instruction (optional)",
    "instruction_placeholder": "Given a web search query, retrieve relevant passages that answer the query",
    "rerank_title": "Rerank playground",
    "rerank_lead": "Score candidate passages against a query with the reranker: one candidate per line.",
    "rerank_query": "Query", "rerank_documents": "Documents (one per line)", "rerank_submit": "Rerank",
    "rerank_empty": "Ranked documents appear here with their P(yes) score and original line number.",
    "rerank_model": "Reranker: {model} ({engine} engine).",
    "rerank_none": "No reranker is loaded, so nothing can be reranked here (and questions are answered in retrieval "
                   "order). Set SIFT_RERANK_ENGINE (transformers, vllm or vllm-http) and SIFT_RERANK_MODEL "
                   "(a Qwen3-Reranker folder), then restart Sift.",
    "rerank_not_ready": "The reranker ({engine}) is not loaded: {error} Check SIFT_RERANK_MODEL and the server log, "
                        "then restart Sift.",
    "rerank_unavailable": "The reranker could not score these: {message}",
    "ask_title": "Ask the knowledge base",
    "ask_lead": "Retrieve, rerank and assemble the cited context exactly as an integration receives it from "
                "POST /v1/query.",
    "ask_question": "Question", "ask_mode": "Search mode", "ask_mode_default": "server default",
    "ask_top_k": "Passages (top_k)", "ask_submit": "Ask", "ask_passages": "Ranked passages",
    "ask_context": "Context", "ask_context_label": "Context as sent to the integration",
    "ask_context_help": "The numbered passages within the token budget; the numbers are the citations.",
    "ask_reranked": "Reranked: the final score is the reranker's P(yes).",
    "ask_not_reranked": "Not reranked, shown in retrieval order: {why}",
    "ask_no_reason": "no reason given", "ask_nothing": "Nothing matched.",
    "ask_no_collections": "No collection you may use exists yet: create one under Knowledge base.",
    "score_final": "score", "score_final_reranked": "P(yes)", "score_retrieval": "retrieval",
    "kb_title": "Knowledge base",
    "kb_lead": "Collections, their documents and what ingestion kept of each.",
    "kb_new_name": "New collection", "kb_create": "Create", "kb_empty": "No collections yet.",
    "kb_documents": "{count} documents", "kb_instruction": "Rerank instruction for {name}",
    "kb_instruction_is": "Rerank instruction: {instruction}", "kb_delete": "Delete collection {name}",
    "kb_delete_confirm": "Delete the collection {name} and all its {count} documents? This cannot be undone.",
    "upload_title": "Upload",
    "upload_drop": "Drop files, folders or .zip archives here (HTML, Markdown, text, PDF, Word), or click to choose.",
    "upload_files": "Files", "upload_folder": "Folder",
    "upload_sending": "Sending {count} files…", "upload_progress": "Processing: {done} of {total} files, {chunks} chunks",
    "upload_done": "Done: {written} documents written, {failed} failed.",
    "doc_search": "Search titles", "doc_title": "Title", "doc_id": "ID", "doc_chunks": "Chunks",
    "doc_updated": "Updated", "doc_url": "URL", "doc_source": "Source", "doc_type": "Type",
    "doc_hash": "Content hash", "doc_none": "No documents yet: upload some above.",
    "doc_none_found": "No document title matches.", "page_info": "{from}–{to} of {total}",
    "doc_delete": "Delete document", "doc_delete_named": "Delete {id}",
    "doc_delete_confirm": "Delete the document {id} and its chunks?", "doc_warnings": "Cleaning warnings",
    "doc_chunks_count": "{count} chunks",
    "doc_chunks_help": "What the index holds of this document after cleaning: its chunks in order, each under its "
                       "heading path. Text that is not here was dropped by cleaning.",
    "doc_no_heading": "(no heading)",
    "status_title": "Status", "status_ok": "Everything is ready.",
    "status_degraded": "Degraded: something is not ready (see below); queries may be served in retrieval order.",
    "status_store": "Vector store", "status_index": "Index", "status_embedder": "Embedder",
    "status_reranker": "Reranker", "status_jobs": "Ingestion queue", "status_access": "Access and version",
    "status_state": "State", "status_backend": "Backend", "status_points": "Points", "status_error": "Error",
    "status_location": "Location", "status_unindexed": "Points not yet in the HNSW index",
    "status_rebuilds": "Index rebuilds", "status_index_server": "managed by the Qdrant server",
    "status_model": "Model", "status_engine": "Engine", "status_queued": "Requests queued",
    "status_jobs_queued": "Jobs queued", "status_jobs_running": "Jobs running", "status_auth": "API keys",
    "status_version": "Version", "auth_open": "open: no keys exist, loopback only",
    "auth_keys": "required", "auth_off": "off (SIFT_AUTH=off)",
}

ZH = {
    "nav_label": "控制台", "nav_rerank": "重排序", "nav_ask": "问答", "nav_kb": "知识库", "nav_status": "状态",
    "nav_api": "API 文档", "language": "语言",
    "key_title": "需要 API 密钥",
    "key_help": "此服务器要求 API 密钥。控制台以 'Authorization: Bearer' 发送密钥，并只显示该密钥可查看和操作的内容。",
    "key_label": "API 密钥", "key_remember": "在此电脑上记住", "key_use": "使用密钥", "key_forget": "清除密钥",
    "who_open": "开放服务器（仅本机，无密钥）", "who_off": "API 密钥已关闭",
    "who_key": "密钥 {name} · {scopes} · {collections}", "all_collections": "全部集合",
    "loading": "加载中…", "working": "处理中…", "results": "结果", "rank": "名次", "line": "行号",
    "document": "文档", "documents": "文档", "collection": "集合", "save": "保存", "saved": "已保存",
    "delete": "删除", "search": "搜索", "previous": "上一页", "next": "下一页", "refresh": "刷新",
    "copy": "复制", "copied": "已复制", "source": "来源", "timings": "耗时", "ready": "就绪", "not_ready": "未就绪",
    "instruction_optional": "指令（可选）",
    "instruction_placeholder": "Given a web search query, retrieve relevant passages that answer the query",
    "rerank_title": "重排序试验台", "rerank_lead": "用重排序模型给候选段落打分：每行一个候选。",
    "rerank_query": "查询", "rerank_documents": "文档（每行一个）", "rerank_submit": "重排序",
    "rerank_empty": "排序后的文档会显示在这里，附带 P(yes) 分数和原始行号。",
    "rerank_model": "重排序模型：{model}（{engine} 引擎）。",
    "rerank_none": "未加载重排序模型，因此这里无法重排序（问答结果按检索顺序返回）。请设置 SIFT_RERANK_ENGINE"
                   "（transformers、vllm 或 vllm-http）和 SIFT_RERANK_MODEL（Qwen3-Reranker 模型目录），然后重启 Sift。",
    "rerank_not_ready": "重排序模型（{engine}）未加载：{error} 请检查 SIFT_RERANK_MODEL 和服务器日志，然后重启 Sift。",
    "rerank_unavailable": "重排序模型无法为这些文档打分：{message}",
    "ask_title": "向知识库提问", "ask_lead": "检索、重排序并拼装带引用的上下文，与集成方从 POST /v1/query 收到的完全一致。",
    "ask_question": "问题", "ask_mode": "检索模式", "ask_mode_default": "服务器默认", "ask_top_k": "段落数（top_k）",
    "ask_submit": "提问", "ask_passages": "排序后的段落", "ask_context": "上下文",
    "ask_context_label": "发送给集成方的上下文", "ask_context_help": "在 token 预算内的编号段落；编号即引用序号。",
    "ask_reranked": "已重排序：最终分数为重排序模型的 P(yes)。",
    "ask_not_reranked": "未重排序，按检索顺序显示：{why}", "ask_no_reason": "未说明原因", "ask_nothing": "没有匹配的内容。",
    "ask_no_collections": "还没有你可使用的集合：请在“知识库”中创建。",
    "score_final": "分数", "score_final_reranked": "P(yes)", "score_retrieval": "检索分数",
    "kb_title": "知识库", "kb_lead": "集合、其中的文档，以及每篇文档在摄取后保留的内容。",
    "kb_new_name": "新集合", "kb_create": "创建", "kb_empty": "还没有集合。", "kb_documents": "{count} 篇文档",
    "kb_instruction": "{name} 的重排序指令", "kb_instruction_is": "重排序指令：{instruction}",
    "kb_delete": "删除集合 {name}", "kb_delete_confirm": "删除集合 {name} 及其全部 {count} 篇文档？此操作无法撤销。",
    "upload_title": "上传",
    "upload_drop": "将文件、文件夹或 .zip 压缩包拖到这里（HTML、Markdown、文本、PDF、Word），或点击选择。",
    "upload_files": "文件", "upload_folder": "文件夹", "upload_sending": "正在发送 {count} 个文件…",
    "upload_progress": "处理中：{done}/{total} 个文件，{chunks} 个分块",
    "upload_done": "完成：写入 {written} 篇文档，失败 {failed} 个。",
    "doc_search": "搜索标题", "doc_title": "标题", "doc_id": "ID", "doc_chunks": "分块", "doc_updated": "更新时间",
    "doc_url": "URL", "doc_source": "来源", "doc_type": "类型", "doc_hash": "内容哈希",
    "doc_none": "还没有文档：请在上方上传。", "doc_none_found": "没有标题匹配的文档。",
    "page_info": "第 {from}–{to} 篇，共 {total} 篇", "doc_delete": "删除文档", "doc_delete_named": "删除 {id}",
    "doc_delete_confirm": "删除文档 {id} 及其分块？", "doc_warnings": "清洗警告", "doc_chunks_count": "{count} 个分块",
    "doc_chunks_help": "清洗后索引中保存的该文档内容：按顺序排列的分块，每块位于其标题路径之下。不在这里的文字已被清洗去除。",
    "doc_no_heading": "（无标题）",
    "status_title": "状态", "status_ok": "一切就绪。", "status_degraded": "降级：有组件未就绪（见下文）；问答可能按检索顺序返回。",
    "status_store": "向量库", "status_index": "索引", "status_embedder": "向量模型", "status_reranker": "重排序模型",
    "status_jobs": "摄取队列", "status_access": "访问与版本", "status_state": "状态", "status_backend": "后端",
    "status_points": "向量点数", "status_error": "错误", "status_location": "位置",
    "status_unindexed": "尚未进入 HNSW 索引的点", "status_rebuilds": "索引重建次数",
    "status_index_server": "由 Qdrant 服务器管理", "status_model": "模型", "status_engine": "引擎",
    "status_queued": "排队的请求", "status_jobs_queued": "排队的任务", "status_jobs_running": "运行中的任务",
    "status_auth": "API 密钥", "status_version": "版本", "auth_open": "开放：没有密钥，仅限本机",
    "auth_keys": "必需", "auth_off": "关闭（SIFT_AUTH=off）",
}

MESSAGES = {"en": EN, "zh": ZH}


def pick_language(chosen: str | None, accept_language: str | None) -> str:
    """The visitor's choice if it is one we have, else the first of their browser's languages we have, else English."""
    if chosen in MESSAGES:
        return chosen
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, position, tag.strip().lower().split("-")[0]))
    for _, _, language in sorted(ranked):
        if language in MESSAGES:
            return language
    return "en"
