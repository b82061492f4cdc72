"""The ``transfers:`` section of the site YAML (see docs/transfers.md), validated like the rest.

Every problem is collected and reported as ``file: section 'transfers': key 'x': what is wrong``
(``ConfigError``). Passwords are read where they are used (``Broker.password()``), and no message
ever holds one.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import yaml

from ..config_error import ConfigError
from ..durations import parse_duration
from .messages import KINDS

BROKER_KEYS = {
    "hosts",
    "username",
    "password_file",
    "password_env",
    "cert",
    "key",
    "ca",
    "client_id",
    "ack",
    "prefetch",
    "heartbeat",
    "vhost",
}
SUBSCRIPTION_KEYS = {"broker", "destination", "durable", "kind"}
SECTION_KEYS = {
    "brokers",
    "subscriptions",
    "spool",
    "flush",
    "max_message_bytes",
    "dedup_window",
    "retention",
    "sites",
    "store_wait",
    "aggregate_every",
    "efficiency_levels",
}
_HOST = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


@dataclasses.dataclass
class Broker:
    alias: str
    hosts: list[tuple[str, int]]
    username: str | None = None
    password_file: str | None = None
    password_env: str | None = None
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    client_id: str | None = None
    ack: str = "client-individual"
    prefetch: int = 500
    heartbeat: float = 10.0
    vhost: str | None = None

    def password(self) -> str | None:
        """The password from its file or environment variable; errors name the place, not the value."""
        if self.password_file:
            try:
                return Path(self.password_file).expanduser().read_text().strip()
            except OSError as error:
                raise ConfigError(
                    [
                        f"broker '{self.alias}': cannot read password_file {self.password_file}: "
                        f"{error.strerror or error}"
                    ]
                ) from None
        if self.password_env:
            if self.password_env not in os.environ:
                raise ConfigError([f"broker '{self.alias}': environment variable {self.password_env} is not set"])
            return os.environ[self.password_env]
        return None


@dataclasses.dataclass
class Subscription:
    broker: str
    destination: str
    kind: str
    durable: str | None = None


@dataclasses.dataclass(frozen=True)
class EfficiencyLevels:
    """Where a transfer efficiency turns bad: below ``warning`` a warning, below ``critical``
    critical (fractions 0…1). The defaults are the ``transfer_efficiency`` module's rating, so the
    matrix and the module say the same of a link. On WLCG a 62 % link is bad, not "yellow-green"."""

    warning: float = 0.9
    critical: float = 0.7

    def level(self, efficiency) -> str:
        """``ok``, ``warning``, ``critical`` — or ``noinfo`` without a value (no transfers)."""
        if efficiency is None or efficiency != efficiency:  # None or NaN
            return "noinfo"
        value = float(efficiency)
        return "critical" if value < self.critical else "warning" if value < self.warning else "ok"


def _fraction(value):
    """0.9, 90 % or "90%" → 0.9; None when it is neither a fraction nor a percentage."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100.0
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return None


def _efficiency_levels(raw, add) -> EfficiencyLevels:
    """``efficiency_levels: {warning: 90%, critical: 70%}`` (fractions or percentages)."""
    default = EfficiencyLevels()
    if raw is None:
        return default
    if not isinstance(raw, dict):
        add("efficiency_levels", "must be a mapping like {warning: 90%, critical: 70%}")
        return default
    for key in sorted(set(raw) - {"warning", "critical"}):
        add(f"efficiency_levels.{key}", "unknown key (known: critical, warning)")
    values = {}
    for key in ("warning", "critical"):
        value = _fraction(raw.get(key, getattr(default, key)))
        if value is None or not 0 <= value <= 1:
            add(f"efficiency_levels.{key}", f"must be a fraction 0…1 or a percentage like 80%, got {raw[key]!r}")
            value = getattr(default, key)
        values[key] = value
    if values["critical"] > values["warning"]:
        add(
            "efficiency_levels",
            f"critical ({values['critical']:.0%}) must not be above warning ({values['warning']:.0%}): "
            "below critical is worse than below warning",
        )
        return default
    return EfficiencyLevels(**values)


@dataclasses.dataclass
class TransfersConfig:
    store: Path
    brokers: dict[str, Broker]
    subscriptions: list[Subscription]
    spool: Path
    flush_messages: int = 20000
    flush_seconds: float = 2.0
    max_message_bytes: int = 1_000_000
    dedup_window: float = 2 * 86400.0
    store_wait: float = 0.5
    #: seconds between the daemon's incremental aggregations (0: leave it to `hfpanel transfers aggregate`)
    aggregate_every: float = 60.0
    retention: dict = dataclasses.field(default_factory=lambda: {"raw": 30 * 86400.0, "stats": 5 * 365 * 86400.0})
    sites: dict = dataclasses.field(default_factory=dict)
    #: the matrix's colours: where an efficiency is a warning, where critical
    efficiency_levels: EfficiencyLevels = dataclasses.field(default_factory=EfficiencyLevels)

    def kind_of(self, destination: str) -> str | None:
        return next((s.kind for s in self.subscriptions if s.destination == destination), None)


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _broker(alias, raw, add) -> Broker | None:
    where = f"brokers.{alias}"
    if not isinstance(raw, dict):
        add(where, "must be a mapping with 'hosts'")
        return None
    for key in sorted(set(raw) - BROKER_KEYS):
        add(f"{where}.{key}", f"unknown key (known: {', '.join(sorted(BROKER_KEYS))})")
    hosts = raw.get("hosts")
    hosts = [hosts] if isinstance(hosts, str) else hosts
    parsed = []
    if not hosts or not isinstance(hosts, list):
        add(f"{where}.hosts", "missing (a list of host:port)")
    for host in hosts or []:
        match = _HOST.match(str(host))
        if not match or not 0 < int(match.group(2)) < 65536:
            add(f"{where}.hosts", f"{host!r} is not host:port")
        else:
            parsed.append((match.group(1).strip("[]"), int(match.group(2))))
    if raw.get("password_file") and raw.get("password_env"):
        add(where, "give password_file or password_env, not both")
    if bool(raw.get("cert")) != bool(raw.get("key")):
        add(where, "a client certificate needs both 'cert' and 'key'")
    for name in ("cert", "key", "ca", "password_file"):
        if raw.get(name) and not Path(str(raw[name])).expanduser().is_file():
            add(f"{where}.{name}", f"file not found: {raw[name]}")
    if raw.get("key") and _encrypted_key(Path(str(raw["key"])).expanduser()):
        add(
            f"{where}.key",
            f"{raw['key']} is passphrase-protected; hfpanel has no passphrase setting (OpenSSL "
            "would prompt on the terminal): give an unencrypted key readable only by hfpanel",
        )
    if raw.get("ack", "client-individual") not in ("client", "client-individual"):
        add(f"{where}.ack", f"must be 'client' or 'client-individual', got {raw['ack']!r}")
    if "prefetch" in raw and not _positive_int(raw["prefetch"]):
        add(f"{where}.prefetch", f"must be a positive integer, got {raw['prefetch']!r}")
    heartbeat = _duration(raw.get("heartbeat", 10), f"{where}.heartbeat", add)
    values = {
        k: str(raw[k])
        for k in ("username", "password_file", "password_env", "cert", "key", "ca", "client_id", "vhost")
        if raw.get(k)
    }
    return Broker(
        alias=str(alias),
        hosts=parsed,
        ack=raw.get("ack", "client-individual"),
        prefetch=raw.get("prefetch", 500),
        heartbeat=heartbeat,
        **values,
    )


def _encrypted_key(path: Path) -> bool:
    """Whether a PEM private key is passphrase-protected (read here, never reported)."""
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return False  # missing: reported above; unreadable: the connection attempt says so
    return b"ENCRYPTED PRIVATE KEY" in head or b"Proc-Type: 4,ENCRYPTED" in head


def _years_as_days(value):
    """Retention may say ``5y`` (5 x 365 days); durations elsewhere stop at weeks."""
    text = str(value).strip()
    return f"{float(text[:-1]) * 365:g}d" if isinstance(value, str) and text.endswith("y") else value


def _duration(raw, where, add) -> float:
    try:
        return parse_duration(raw)
    except ValueError as error:
        add(where, str(error))
        return 0.0


def parse_transfers(
    data: dict, source: str = "<config>", base: Path | None = None, need_subscriptions: bool = True
) -> TransfersConfig:
    """The section as a ``TransfersConfig``; ``need_subscriptions`` False (``--replay``) lets a site
    without brokers use the defaults."""
    problems = []

    def add(key, message):
        problems.append(
            f"{source}: section 'transfers': key '{key}': {message}"
            if key
            else f"{source}: section 'transfers': {message}"
        )

    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must hold a mapping with 'store' and 'transfers'"])
    if not isinstance(data.get("transfers"), dict) and need_subscriptions:
        raise ConfigError([f"{source}: section 'transfers': missing (brokers and subscriptions to ingest)"])
    section = data.get("transfers") or {}
    base = base or Path(".")
    if not data.get("store"):
        problems.append(f"{source}: key 'store': missing (the folder of the Parquet store)")
    for key in sorted(set(section) - SECTION_KEYS):
        add(key, f"unknown key (known: {', '.join(sorted(SECTION_KEYS))})")
    brokers = {}
    for alias, raw in (section.get("brokers") or {}).items():
        broker = _broker(alias, raw, add)
        if broker:
            brokers[str(alias)] = broker
    subscriptions = []
    raw_subs = section.get("subscriptions")
    if need_subscriptions and (not raw_subs or not isinstance(raw_subs, list)):
        add("subscriptions", "missing (a list of {broker, destination, kind})")
    for index, raw in enumerate(raw_subs if isinstance(raw_subs, list) else []):
        where = f"subscriptions[{index}]"
        if not isinstance(raw, dict):
            add(where, "must be a mapping with broker, destination and kind")
            continue
        for key in sorted(set(raw) - SUBSCRIPTION_KEYS):
            add(f"{where}.{key}", f"unknown key (known: {', '.join(sorted(SUBSCRIPTION_KEYS))})")
        if raw.get("broker") not in brokers:
            add(f"{where}.broker", f"unknown broker {raw.get('broker')!r} (defined: {', '.join(brokers) or 'none'})")
        destination = str(raw.get("destination") or "")
        if not destination.startswith(("/topic/", "/queue/")):
            add(f"{where}.destination", f"must start with /topic/ or /queue/, got {destination!r}")
        if raw.get("kind") not in KINDS:
            add(f"{where}.kind", f"must be one of {', '.join(KINDS)}, got {raw.get('kind')!r}")
        if raw.get("durable") and not destination.startswith("/topic/"):
            add(f"{where}.durable", "durable subscriptions are for topics; a queue keeps messages anyway")
        if raw.get("durable") and raw.get("broker") in brokers and not brokers[raw["broker"]].client_id:
            add(f"{where}.durable", f"broker '{raw['broker']}' needs a client_id for durable subscriptions")
        subscriptions.append(
            Subscription(
                broker=str(raw.get("broker")),
                destination=destination,
                kind=str(raw.get("kind")),
                durable=raw.get("durable") or None,
            )
        )
    flush = section.get("flush") or {}
    if not isinstance(flush, dict) or set(flush) - {"messages", "seconds"}:
        add("flush", "must be a mapping with 'messages' and/or 'seconds'")
        flush = {}
    if "messages" in flush and not _positive_int(flush["messages"]):
        add("flush.messages", f"must be a positive integer, got {flush['messages']!r}")
    max_bytes = section.get("max_message_bytes", 1_000_000)
    if not _positive_int(max_bytes):
        add("max_message_bytes", f"must be a positive integer, got {max_bytes!r}")
    retention = section.get("retention") or {}
    retention = {
        k: _duration(_years_as_days(retention.get(k, d)), f"retention.{k}", add)
        for k, d in (("raw", "30d"), ("stats", "5y"))
    }
    store = (base / str(data.get("store") or ".")).resolve()
    spool = section.get("spool")
    spool = (base / str(spool)).resolve() if spool else store.parent / f"spool-{store.name}"
    config = TransfersConfig(
        store=store,
        brokers=brokers,
        subscriptions=subscriptions,
        spool=spool,
        flush_messages=flush.get("messages", 20000) if _positive_int(flush.get("messages", 1)) else 20000,
        flush_seconds=_duration(flush.get("seconds", 2), "flush.seconds", add),
        max_message_bytes=max_bytes if _positive_int(max_bytes) else 1_000_000,
        dedup_window=_duration(section.get("dedup_window", "2d"), "dedup_window", add),
        store_wait=_duration(section.get("store_wait", 0.5), "store_wait", add),
        aggregate_every=_duration(section.get("aggregate_every", "1m"), "aggregate_every", add),
        retention=retention,
        sites=section.get("sites") or {},
        efficiency_levels=_efficiency_levels(section.get("efficiency_levels"), add),
    )
    if problems:
        raise ConfigError(problems)
    return config


def load_transfers(path, need_subscriptions: bool = True) -> TransfersConfig:
    """The transfers settings of a site YAML (only ``store`` and ``transfers`` are read here)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror or error}"]) from None
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: invalid YAML: {getattr(error, 'problem', error)}"]) from None
    return parse_transfers(data, source=str(path), base=path.resolve().parent, need_subscriptions=need_subscriptions)
