"""Who is asking: the signed-in user, a proxy-asserted user, a wall token, or nobody."""

from __future__ import annotations

from dataclasses import dataclass

from presence_dash.auth.roles import Role


@dataclass(frozen=True)
class Identity:
    name: str
    role: Role
    via: str  # "local" | "header" | "kiosk" | "none" | "anonymous"
    kiosk_id: int | None = None

    @property
    def is_kiosk(self) -> bool:
        return self.kiosk_id is not None

    @property
    def is_anonymous(self) -> bool:
        """Watching without signing in (`anonymous_role`): nobody in particular."""
        return self.via == "anonymous"

    @property
    def sees_provider_details(self) -> bool:
        """Vendors' error texts (host and account names) are for admins, never for walls."""
        return self.role >= Role.ADMIN and not self.is_kiosk

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role.label, "via": self.via}


# `[auth] mode = "none"`: the demo on a loopback host, where whoever can connect owns the box.
NO_SIGN_IN = Identity("local-user", Role.ADMIN, "none")
