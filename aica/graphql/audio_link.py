"""The REST audio route's caller when it comes with a signed link instead of a token."""

from __future__ import annotations

from dataclasses import dataclass

from aica.graphql.context import Context
from aica.services import auth, media


@dataclass
class AudioLinkContext(Context):
    """The link is the credential (``authorization``): it names the caller and the org, and
    is good for the one record it was signed for. Membership and role are checked as usual."""

    record_id: str = ""

    async def principal(self) -> auth.Principal:
        if self._principal is None:
            assert self.authorization is not None  # the ticket, set by the app
            principal, org_id = await media.redeem(self.authorization, self.record_id)
            self._principal, self.selected_org_id = principal, org_id
        return self._principal
