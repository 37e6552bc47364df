"""One configuration model, loaded from (rising priority) defaults, YAML, OMH_* environment, flags.

Environment variables use `__` between levels: `OMH_API__URL`, `OMH_API__TOKEN`,
`OMH_BACKEND__DB_URL`. Secrets are SecretStr: they print as '**********' wherever a model is shown.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from ome_harness.redaction import mask_userinfo

DEFAULT_CONFIG_FILE = Path("harness.yaml")


class ConfigError(Exception):
    """Bad configuration or input: one line for the user, exit code 2."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def api_url_problem(url: str) -> str | None:
    """Why `url` cannot be OME's API root (None when it can): http(s), a host, a port to dial, no path."""
    shown = mask_userinfo(url)
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket: 'http://[::1'
        return f"API URL {shown!r} is not an http(s) URL with a host (e.g. http://localhost:8081)"
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return f"API URL {shown!r} is not an http(s) URL with a host (e.g. http://localhost:8081)"
    try:
        port = parts.port
        parts.hostname.encode("idna")
    except (ValueError, UnicodeError):
        return f"API URL {shown!r} has an invalid host or port"
    if port == 0:
        return f"API URL {shown!r}: port 0 cannot be dialled (it means 'any free port' only when listening)"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        root = mask_userinfo(f"{parts.scheme}://{parts.netloc}")
        return f"API URL {shown!r} must be the server root (the harness adds /v1/...): use {root}"
    return None


def _api_url(url: str) -> str:
    if problem := api_url_problem(url):
        raise ValueError(problem)
    return url


# A name shown in a report's headings and tables: a line break or a control character in it would put raw
# lines into the Markdown (found by the CLI audit with a newline in --domain and in a target's name).
def _one_line(text: str) -> str:
    if re.search(r"[\x00-\x1f\x7f]", text):
        raise ValueError("one line of text: no line break or control character")
    return text


OneLine = Annotated[str, AfterValidator(_one_line)]


class ApiConfig(Section):
    # Checked wherever it comes from (file, OMH_API__URL, flag), so every command refuses it alike.
    url: Annotated[str, AfterValidator(_api_url)] = "http://localhost:8081"
    token: SecretStr | None = None
    vhost: OneLine = "default"
    app: OneLine = "app"
    connect_timeout: float = Field(3.0, gt=0, le=120)
    read_timeout: float = Field(5.0, gt=0, le=300)


def named_folder(value: object) -> object:
    """A folder's name as given; an empty one (an unset variable in `--out "$DIR"` or OMH_REPORT__OUT)
    would be the current folder, so it is refused."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("empty: name a folder")
    return value


class ReportConfig(Section):
    out: Annotated[Path, BeforeValidator(named_folder)] = Path("reports/out")
    domain: OneLine | None = None
    template_dir: Path | None = None


def _ome_version(text: str) -> str:
    from ome_harness.ome.versions import OmeVersion  # here: the ome package pulls in httpx

    try:
        OmeVersion.parse(text)
    except ValueError:
        raise ValueError("not an OME release number (e.g. 0.21.0)") from None
    return text


def _non_empty_token(token: SecretStr) -> SecretStr:
    if not token.get_secret_value():
        raise ValueError("empty: OME refuses to start without an access token, and so does the emulator")
    return token


class EmulatorConfig(Section):
    hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    port: int = Field(0, ge=0, le=65535)
    # Real OME refuses to start with an empty AccessToken ("Empty <AccessToken> is not allowed", ome-api.md).
    token: Annotated[SecretStr, AfterValidator(_non_empty_token)] = SecretStr("ome-harness-emulator-token")
    version: Annotated[str, AfterValidator(_ome_version)] = "0.20.0"
    rtmp_port: int = Field(0, ge=0, le=65535)
    # SRT ingest (UDP; OME's default 9999); 0: a free port in-process, 9999 for `ome-harness emulator`.
    srt_port: int = Field(0, ge=0, le=65535)
    llhls_port: int = Field(0, ge=0, le=65535)
    # Also write EXT-X-DATERANGE SCTE35-OUT/IN tags (OME v0.20.0 writes none; the verifier reads both).
    llhls_daterange: bool = False
    # The app's LL-HLS segment duration (OME's default 6 s); shorter keeps SCTE-35 runs fast, since
    # OME drops a break not longer than 1.5 × this (ome-api.md).
    llhls_segment_s: float = Field(6.0, ge=1, le=60)
    # Faults to inject (names of emulator.state.Faults, `name=value` for numbers, or ignore_cues), comma
    # separated in OMH_EMULATOR__FAULTS: how the suite proves a broken deployment is reported.
    faults: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("faults", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [f.strip() for f in value.split(",") if f.strip()] if isinstance(value, str) else value


class MediaConfig(Section):
    """The test encoder and the media checks (ingest, SCTE-35, stats)."""

    video_bitrate: int = Field(500_000, ge=50_000, le=50_000_000)
    audio_bitrate: int = Field(64_000, ge=16_000, le=512_000)
    listed_deadline_s: float = Field(10.0, gt=0, le=120)
    stats_window_s: float = Field(5.0, ge=1, le=120)
    # Clock difference allowed between this host and OME's when judging cue timing (0 on one host).
    clock_skew_s: float = Field(0.25, ge=0, le=10)
    # The playback scenario's limit on live edge latency (p95 over its window; docs/playback.md).
    max_live_latency_s: float = Field(3.0, gt=0, le=60)
    # Test streams are named PREFIX + 8 hex digits, so a shared OME's operators can tell them apart.
    stream_prefix: str = Field("omh-", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


class EndpointsConfig(Section):
    """Where an OME the harness did not launch takes and serves media (`scheme://host:port`, no path).

    Unset ones are read from `checks.server_xml` (its ports, on the API's host); still unknown, the
    harness refuses to publish rather than guess OME's default ports on the API host.
    """

    rtmp: str | None = Field(None, pattern=r"^rtmps?://[^/?#\s]+$")  # rtmp://ingest.example.com:1935
    srt: str | None = Field(None, pattern=r"^srt://[^/?#\s]+$")  # srt://ingest.example.com:9999
    llhls: str | None = Field(None, pattern=r"^https?://[^?#\s]+[^/?#\s]$")  # https://cdn.example.com
    webrtc: str | None = Field(None, pattern=r"^wss?://[^?#\s]+[^/?#\s]$")  # signalling: ws://host:3333

    @field_validator("llhls", "webrtc", mode="before")
    @classmethod
    def _no_trailing_slash(cls, value: Any) -> Any:
        return value.rstrip("/") if isinstance(value, str) and value.count("/") > 2 else value


class ContainerConfig(Section):
    # Newest OME release; the legacy mirror airensoft/ovenmediaengine carries the same tags.
    image: str = "ovenmedialabs/ovenmediaengine:v0.21.0"
    ready_timeout: float = Field(60.0, gt=0)
    token: SecretStr | None = None  # None: a fresh random token per launch
    pull: bool = True
    pull_timeout: float = Field(600.0, gt=0)
    engine_timeout: float = Field(30.0, gt=0, le=600)  # each Docker API call
    bind_address: str = "127.0.0.1"  # host address the ports are published on
    host_ports: dict[Literal["api", "rtmp", "srt", "llhls"], int] = Field(
        default_factory=dict
    )  # absent: free port
    labels: dict[str, str] = Field(default_factory=dict)  # added to the harness's own labels
    keep_logs: bool = True  # save each container's log under report.out/containers/
    log_tail: int = Field(20, ge=1, le=1000)  # log lines quoted in start-up errors
    server_xml_template: Path | None = None  # default: docker/Server.xml.j2


class BackendConfig(Section):
    # url: a user's backend to test; unset, the harness runs the reference backend in-process.
    url: str | None = None
    token: SecretStr | None = None
    db_url: SecretStr | None = None
    table_map: dict[str, dict[str, str]] = Field(default_factory=dict)
    # For `ome-harness backend` (the reference backend); OME defaults to the api section's.
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    ome_url: str | None = None
    ome_token: SecretStr | None = None
    # Scenarios on a user's backend: an existing channel/marker to use (unset: created via /api/channels,
    # /api/markers).
    channel: str | None = None
    marker: str | None = None
    # The in-process reference backend (used when url is unset): a database meant for it alone
    # (default: a temporary SQLite), and faults the suite injects to prove its scenarios can fail.
    reference_db_url: SecretStr | None = None
    reference_faults: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("reference_faults", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [f.strip() for f in value.split(",") if f.strip()] if isinstance(value, str) else value


class ChecksConfig(Section):
    server_xml: Path | None = None
    env_file: Path | None = None
    env_token_key: str = "OME_API_TOKEN"


class HarnessConfig(BaseSettings):
    """Everything ome-harness can be told."""

    model_config = SettingsConfigDict(env_prefix="OMH_", env_nested_delimiter="__", extra="forbid",
                                      validate_assignment=True)

    # None lets each command pick its natural default: diagnose attaches to api.url, scenarios use the
    # emulator.
    target: Literal["url", "emulator", "container"] | None = None
    allow_mutating: bool = False
    api: ApiConfig = Field(default_factory=ApiConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    emulator: EmulatorConfig = Field(default_factory=EmulatorConfig)
    container: ContainerConfig = Field(default_factory=ContainerConfig)
    backend: BackendConfig = Field(default_factory=BackendConfig)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    media: MediaConfig = Field(default_factory=MediaConfig)
    endpoints: EndpointsConfig = Field(default_factory=EndpointsConfig)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags (passed as init values) beat the environment, which beats the file.
        return init_settings, env_settings, _YamlSource(settings_cls)

    def secrets(self) -> list[str]:
        """Every secret value in this config (any SecretStr, and a password inside a DB URL)."""
        found: list[str] = []
        urls: list[str] = []
        for section in self.__dict__.values():
            if not isinstance(section, BaseModel):
                continue
            for value in section.__dict__.values():
                if isinstance(value, SecretStr) and value.get_secret_value():
                    found.append(value.get_secret_value())
                    urls.append(value.get_secret_value())
                elif isinstance(value, str) and "://" in value:
                    urls.append(value)
        # A password inside any URL (api.url, backend.url, db_url) is a secret on its own too.
        found += [p for p in (url_password(u) for u in urls) if p]
        return found


def url_password(url: str) -> str | None:
    """The password of a `scheme://user:password@host/...` URL, so it is redacted on its own too."""
    credentials = url.split("://", 1)[-1].split("@", 1)
    if len(credentials) < 2 or ":" not in credentials[0]:
        return None
    return credentials[0].split(":", 1)[1] or None


class _YamlSource(PydanticBaseSettingsSource):
    """The YAML file's values; set per load through `_YamlSource.data`."""

    data: dict[str, Any] = {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


class YamlTooDeep(yaml.YAMLError):
    problem = "nested too deeply"


def safe_load_yaml(text: str) -> Any:
    """yaml.safe_load, with a file nested ~1000 levels deep (hostile or broken) as a YAML error too:
    PyYAML composes collections recursively and would end in a RecursionError."""
    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise YamlTooDeep("nested too deeply") from None


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not a text (UTF-8) YAML file: byte 0x{raw[exc.start]:02x} at line {line}"
                          ) from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise ConfigError(f"{path}: not a text YAML file: a NUL byte at line {line}")
    try:
        data = safe_load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config file must be a mapping of keys, got {type(data).__name__}")
    return data


def _describe(exc: ValidationError, source: str) -> str:
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        return f"{source}: unknown key '{key}'"
    given = first.get("input")
    secret = "token" in key or "db_url" in key or isinstance(given, dict | list)
    shown = "" if secret or key == "api.url" else f" (got {mask_userinfo(repr(given))})"
    message = first["msg"].removeprefix("Value error, ")
    return f"{source}: key '{key}': {message}{shown}"


def _prune(values: dict[str, Any]) -> dict[str, Any]:
    pruned: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _prune(value)
            if not value:
                continue
        if value is not None:
            pruned[key] = value
    return pruned


def load_config(path: Path | str | None = None, overrides: dict[str, Any] | None = None) -> HarnessConfig:
    """Build the config; any problem becomes a one-line ConfigError naming the file or variable and key."""
    file = (
        Path(path) if path is not None else (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None)
    )
    data = read_yaml(file) if file is not None else {}
    try:
        # Validate the file alone first (no environment) so its errors name the file.
        HarnessConfig(_env_prefix="OMH_NOT_READ_WHILE_CHECKING_THE_FILE_", **data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(file))) from None
    _YamlSource.data = data
    try:
        return HarnessConfig(**_prune(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, _source_of(exc))) from None
    except SettingsError as exc:
        raise ConfigError(_unparsed_variable(exc)) from None
    finally:
        _YamlSource.data = {}


def _source_of(exc: ValidationError) -> str:
    """The OMH_* variable that sets the failing key (its own, or a section's JSON), else the flags."""
    loc = [str(part) for part in exc.errors()[0]["loc"]]
    names = {k.upper(): k for k in os.environ if k.upper().startswith("OMH_")}
    for depth in range(len(loc), 0, -1):
        if (name := names.get("OMH_" + "__".join(loc[:depth]).upper())) is not None:
            return f"environment ({name}) or flags"  # a flag, when given too, is what was read
    return "command-line flags"


def _unparsed_variable(exc: SettingsError) -> str:
    """pydantic-settings reads a list or mapping from OMH_* as JSON; its error names the field, so the
    variables of that field are named here. Never the value: it may hold a token."""
    field = re.search(r'field "(\w+)"', str(exc))
    prefix = f"OMH_{field.group(1)}".upper() if field else "OMH_"
    keys = sorted(k for k in os.environ if k.upper() == prefix or k.upper().startswith(prefix + "__"))
    return (f"environment ({', '.join(keys) or prefix + '*'}): a list or mapping is read as JSON, "
            "e.g. '[\"127.0.0.1\", \"::1\"]' or '{\"key\": \"value\"}'")


def scenario_target(cfg: HarnessConfig) -> str:
    """Where scenarios run: the named target; else an API URL that was given means that URL.

    Only with no URL anywhere (flag, OMH_API__URL, file) do they fall back to the built-in
    emulator: a CI job that sets a URL but forgets `--target url` must not go green on a stand-in.
    """
    if cfg.target is not None:
        return cfg.target
    return "url" if "url" in cfg.api.model_fields_set else "emulator"
