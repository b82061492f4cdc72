"""Sending one rendered message through one receiver: mail (SMTP), webhook (HTTP POST), command.

Each ``send_*`` returns a short account of success ("250 accepted", "HTTP 200") or raises
``DeliveryError`` with one line saying why — never a password (SMTP credentials come from the
environment or a file, are used once and never logged). Every message carries its idempotency key
(mail ``Message-ID``, webhook ``Idempotency-Key`` header and body field, command environment), so
a receiver can drop the one duplicate a crash between sending and recording can cause.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import requests

from ..process import first_line
from ..process import run as run_process
from .rules_config import Receiver

USER_AGENT = "hfpanel-notify/1"


class DeliveryError(Exception):
    """A receiver did not take the message; the text is the one-line reason."""


def _password(settings: dict) -> str | None:
    if settings.get("password_env"):
        name = settings["password_env"]
        if name not in os.environ:
            raise DeliveryError(f"SMTP password: environment variable {name} is not set")
        return os.environ[name]
    if settings.get("password_file"):
        try:
            return Path(settings["password_file"]).expanduser().read_text().strip()
        except OSError as error:
            raise DeliveryError(
                f"SMTP password: cannot read {settings['password_file']}: {error.strerror or error}"
            ) from None
    return None


def _tls_context(ca: str | None) -> ssl.SSLContext:
    if ca and os.path.isdir(ca):
        return ssl.create_default_context(capath=ca)
    return ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()


def mail_message(settings: dict, row: dict) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"{settings.get('subject_prefix', '[hfpanel]')} {row['subject']}"
    mail["From"] = settings["from"]
    mail["To"] = ", ".join(settings["to"])
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{row['message_id']}.{row['receiver']}@hfpanel>"
    mail["X-Hfpanel-Incident"] = row["incident_id"]
    mail["X-Hfpanel-Run"] = row["run_id"]
    mail.set_content(row["text"])
    mail.add_alternative(row["html"], subtype="html")
    return mail


def send_mail(settings: dict, row: dict) -> str:
    host, port, security, timeout = settings["host"], settings["port"], settings["security"], settings["timeout"]
    where = f"SMTP {host}:{port}"
    try:
        if security == "tls":
            server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context(settings.get("ca")))
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        with server:
            if security == "starttls":
                server.starttls(context=_tls_context(settings.get("ca")))
            if settings.get("username"):
                server.login(settings["username"], _password(settings) or "")
            refused = server.send_message(mail_message(settings, row))
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryError(f"{where}: login refused ({error.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError(f"{where}: every recipient refused ({', '.join(error.recipients)})") from None
    except smtplib.SMTPResponseException as error:
        reason = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        raise DeliveryError(f"{where}: {error.smtp_code} {first_line(str(reason))}") from None
    except (smtplib.SMTPException, ssl.SSLError) as error:
        raise DeliveryError(f"{where}: {first_line(str(error)) or type(error).__name__}") from None
    except OSError as error:
        raise DeliveryError(f"{where}: {error.strerror or error}") from None
    if refused:
        return f"accepted, refused for {', '.join(refused)}"
    return "accepted"


def send_webhook(settings: dict, row: dict) -> str:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": row["message_id"],
        **settings.get("headers", {}),
    }
    try:
        response = requests.post(
            settings["url"],
            data=row["payload"].encode(),
            headers=headers,
            timeout=settings["timeout"],
            verify=settings.get("ca") or True,
        )
    except requests.Timeout:
        raise DeliveryError(f"webhook {settings['url']}: timed out after {settings['timeout']:g}s") from None
    except requests.RequestException as error:
        reason = first_line(str(getattr(getattr(error, "args", [None])[0], "reason", None) or error))
        if "] " in reason and "[Errno" in reason:  # urllib3's "HTTPConnection(...): Failed …: [Errno 111] …"
            reason = reason.rsplit("] ", 1)[1]
        raise DeliveryError(f"webhook {settings['url']}: {reason}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {settings['url']}: HTTP {response.status_code}")
    return f"HTTP {response.status_code}"


def send_command(settings: dict, row: dict) -> str:
    from ..collector import SourceError

    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="hfpanel-message-") as handle:
        json.dump({**json.loads(row["payload"]), "subject": row["subject"], "text": row["text"]}, handle)
        handle.flush()
        env = {
            "HFPANEL_MESSAGE_FILE": handle.name,
            "HFPANEL_MESSAGE_ID": row["message_id"],
            "HFPANEL_INCIDENT": row["incident_id"],
            "HFPANEL_KIND": row["kind"],
            "HFPANEL_SUBJECT": row["subject"],
        }
        try:
            done = run_process(settings["argv"], timeout=settings["timeout"], max_bytes=100_000, env=env)
        except SourceError as error:
            raise DeliveryError(str(error)) from None
    if done.returncode != 0:
        why = first_line(done.stderr) or first_line(done.stdout) or "no output"
        raise DeliveryError(f"command {settings['argv'][0]} exited {done.returncode}: {why}")
    return "exit 0"


SENDERS = {"mail": send_mail, "webhook": send_webhook, "command": send_command}


def send(receiver: Receiver, row: dict) -> str:
    """Deliver ``row`` (an outbox row) through ``receiver``; ``DeliveryError`` with the reason."""
    return SENDERS[receiver.kind](receiver.settings, row)
