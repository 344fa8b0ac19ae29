"""`[providers.salesforce]` and the person's User Id (docs/providers/salesforce.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from presence_dash.providers.config_base import EnvName, ProviderCommon

SoqlLiteral = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_ .]{1,60}$")]


class SalesforceConfig(ProviderCommon):
    """`base_url` is the login URL (https://login.salesforce.com, https://test.salesforce.com
    or the org's My Domain); queries go to the `instance_url` the token response names."""

    auth: Literal["client_credentials", "jwt_bearer"] = "client_credentials"
    client_id: str
    client_secret_env: EnvName | None = None  # client credentials flow
    username: str | None = None  # JWT bearer flow: the integration user
    private_key_env: EnvName | None = None  # JWT bearer flow: PEM of the connected app's key
    api_version: Annotated[str, StringConstraints(pattern=r"^\d{2,3}\.\d$")] = "60.0"
    poll_seconds: float = Field(60, ge=0.1, le=3600)
    session_type: SoqlLiteral = "UI"
    # AuthSession.LoginType values that mark an interactive UI login: Application (user name
    # and password) and the SAML SSO types, so an org that signs in through SSO is not shown
    # offline (docs/providers/salesforce.md). `login_type` (one value, v1) is still accepted.
    login_types: Annotated[list[SoqlLiteral], Field(min_length=1, max_length=20)] = [
        "Application",
        "SAML Idp Initiated SSO",
        "SAML Sfdc Initiated SSO",
    ]
    login_type: SoqlLiteral | None = None
    # The query travels in the URL: 500 ids of ~25 encoded bytes stay under the 16 KB limit.
    ids_per_query: int = Field(200, ge=1, le=500)
    webhook_secret_env: EnvName | None = None  # enables POST /hooks/salesforce
    webhook_max_age_s: float = Field(300, ge=5, le=3600)

    @model_validator(mode="after")
    def _flow_has_its_keys(self) -> SalesforceConfig:
        if self.auth == "client_credentials" and not self.client_secret_env:
            raise ValueError("client_credentials needs client_secret_env")
        if self.auth == "jwt_bearer" and not (self.username and self.private_key_env):
            raise ValueError("jwt_bearer needs username and private_key_env")
        if self.login_type and "login_types" in self.model_fields_set:
            raise ValueError("set login_types or login_type, not both")
        return self

    @property
    def ui_login_types(self) -> list[str]:
        """The LoginType values queried: `login_type` alone when a v1 file sets it."""
        return [self.login_type] if self.login_type else list(self.login_types)


def check_user_id(value: str) -> str:
    """A person's `salesforce` key: the User record's Id, in either form."""
    if not (len(value) in (15, 18) and value.isalnum() and value.isascii()):
        raise ValueError("expected a 15- or 18-character Salesforce User Id")
    return value
