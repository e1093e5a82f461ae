"""A model hub on 127.0.0.1 speaking the Hugging Face Hub's download protocol.

Enough of it for ``huggingface_hub.snapshot_download`` (what faster-whisper's
``download_model`` calls): the revision and tree listings, then HEAD and GET per file with the
commit and ETag headers the client insists on. ``truncate`` serves a file cut short while
announcing its full size, as a dropped connection would.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def model_hub(
    repo: str, files: Path, *, truncate: str | None = None
) -> tuple[Starlette, Counter[str]]:
    """The hub app serving directory ``files`` as model repository ``repo``; and its hit counter.

    Plain (threadpool) endpoints: they read files.
    """
    hits: Counter[str] = Counter()

    def revision(request: Request) -> Response:
        siblings = [{"rfilename": path.name} for path in sorted(files.iterdir())]
        return JSONResponse({"id": repo, "sha": COMMIT, "siblings": siblings})

    def tree(request: Request) -> Response:
        return JSONResponse(
            [
                {"type": "file", "path": path.name, "size": path.stat().st_size, "oid": COMMIT}
                for path in sorted(files.iterdir())
            ]
        )

    def resolve(request: Request) -> Response:
        name = request.path_params["name"]
        path = files / name
        if "/" in name or not path.is_file():
            return Response(status_code=404)
        data = path.read_bytes()
        headers = {
            "X-Repo-Commit": COMMIT,
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Content-Length": str(len(data)),
        }
        if request.method == "HEAD":
            return Response(headers=headers)
        hits[name] += 1
        body = data[: len(data) // 2] if name == truncate else data
        return Response(body, headers={**headers, "Content-Length": str(len(body))})

    api = f"/api/models/{repo}"
    app = Starlette(
        routes=[
            Route(f"{api}/revision/{{rev}}", revision),
            Route(f"{api}/tree/{{rev}}", tree),
            Route(f"/{repo}/resolve/{{rev}}/{{name:path}}", resolve, methods=["GET", "HEAD"]),
        ]
    )
    return app, hits
