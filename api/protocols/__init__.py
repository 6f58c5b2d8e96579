"""Request and response bodies of other projects' APIs that Sift speaks (Cohere, Jina, TEI, Dify)."""
