"""Dependencies shared by the routes: the started ``Sift`` service on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from api.schemas import COLLECTION_PATTERN
from api.service import Sift


def get_sift(request: Request) -> Sift:
    return request.app.state.sift


SiftDep = Annotated[Sift, Depends(get_sift)]
CollectionName = Annotated[str, Path(pattern=COLLECTION_PATTERN, description="Collection name.")]
