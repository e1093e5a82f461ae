#!/usr/bin/env python3
"""Upload recordings to AICA and print each one as it finishes, scored.

    pip install 'gql[websockets,httpx]'
    export AICA_URL=http://127.0.0.1:8000 AICA_TOKEN=aica_pt_... AICA_ORG_ID=org_...
    python examples/python_client.py proj_... call.wav [more.wav ...]

It subscribes to ``recordFinished`` (completed or failed) before uploading, so no ending is
missed, uploads each file with the GraphQL multipart request, prints one JSON line per record
as it finishes and exits 0 when all completed, 1 when any failed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from gql import Client, FileVar, gql
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

RECORD = "id fileName status error qualityScore analysis { complianceStatus summary }"
FINISHED = gql(f"subscription ($p: ID!) {{ recordFinished(projectId: $p) {{ {RECORD} }} }}")
UPLOAD = gql("mutation ($input: UploadRecordInput!) { uploadRecord(input: $input) { id } }")
RECORD_NOW = gql(f"query ($id: ID!) {{ record(id: $id) {{ {RECORD} }} }}")


async def main(project_id: str, files: list[Path]) -> int:
    url, token, org = os.environ["AICA_URL"], os.environ["AICA_TOKEN"], os.environ["AICA_ORG_ID"]
    http = HTTPXAsyncTransport(
        url=f"{url}/graphql",
        headers={"Authorization": f"Bearer {token}", "X-Selected-Org-ID": org},
        timeout=300,
    )
    ws = WebsocketsTransport(
        url=url.replace("http", "ws", 1) + "/graphql",
        init_payload={"authorization": f"Bearer {token}", "orgId": org},
    )
    waiting: set[str] = set()
    results: dict[str, dict[str, Any]] = {}

    def finished(record: dict[str, Any]) -> None:
        if record["id"] in waiting and record["id"] not in results:
            results[record["id"]] = record
            print(json.dumps(record), flush=True)

    async with Client(transport=ws) as live, Client(transport=http) as api:
        FINISHED.variable_values = {"p": project_id}
        events = live.subscribe(FINISHED)
        first = asyncio.ensure_future(anext(events))  # sends the subscribe message
        await asyncio.sleep(0.2)
        for path in files:
            with path.open("rb") as file:
                UPLOAD.variable_values = {
                    "input": {"projectId": project_id, "file": FileVar(file, filename=path.name)}
                }
                uploaded = await api.execute(UPLOAD, upload_files=True)
            waiting.add(uploaded["uploadRecord"]["id"])
        for record_id in waiting:  # any that ended before the subscription was in place
            RECORD_NOW.variable_values = {"id": record_id}
            record = (await api.execute(RECORD_NOW))["record"]
            if record["status"] in ("completed", "failed"):
                finished(record)
        next_event = first
        while len(results) < len(waiting):
            finished((await next_event)["recordFinished"])
            next_event = asyncio.ensure_future(anext(events))
        next_event.cancel()
    return 0 if all(r["status"] == "completed" for r in results.values()) else 1


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(asyncio.run(main(sys.argv[1], [Path(p) for p in sys.argv[2:]])))
