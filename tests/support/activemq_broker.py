"""A private ActiveMQ (Debian's 5.17 package) on 127.0.0.1 for the ingest tests.

Usage::

    broker = ActiveMQ(tmp_path).start()      # ~5-10 s: a JVM
    broker.port                              # STOMP on 127.0.0.1, a free port
    ActiveMQ(work, tls=TLSStores(keystore, truststore, "pass"))
    broker.tls_port                          # and STOMP over TLS (client certificate required)
    broker.restart()                         # same port, same data dir (KahaDB keeps persistent messages)
    broker.stop()

The config is /etc/activemq/instances-available/main/ copied into a work dir, with its connectors
replaced by one STOMP connector on a free port of 127.0.0.1 (no openwire, so two brokers never
collide) and no JMX; with ``tls`` also a ``stomp+ssl`` connector that requires a client certificate
signed by a CA of the truststore (``needClientAuth=true``), keys from an ``<sslContext>``. The JVM runs in the foreground of a subprocess we own: stopped by its PID
(SIGTERM, then SIGKILL), never by name. Facts measured on this machine: shared/notes/activemq.md.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HOME = Path("/usr/share/activemq")
TEMPLATE = Path("/etc/activemq/instances-available/main")
JAR = HOME / "bin" / "activemq.jar"


@dataclass
class TLSStores:
    """The broker's key store (its certificate and key) and trust store (the CAs whose client
    certificates it accepts); PKCS12 or JKS."""

    keystore: Path
    truststore: Path
    password: str
    type: str = "PKCS12"


class BrokerError(RuntimeError):
    """The broker could not be started; the message says why and where its log is."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def available() -> str | None:
    """Why a broker cannot run here (None when it can)."""
    if not JAR.exists() or not TEMPLATE.is_dir():
        return "ActiveMQ is not installed (apt-get install activemq)"
    if not shutil.which("java"):
        return "java is not installed"
    return None


class ActiveMQ:
    def __init__(self, work: Path, port: int | None = None, tls: TLSStores | None = None, tls_port: int | None = None):
        self.work = Path(work)
        self.port = port or free_port()
        self.tls_port = (tls_port or free_port()) if tls else None
        self.process: subprocess.Popen | None = None
        conf = self.work / "conf"
        if not conf.exists():
            shutil.copytree(TEMPLATE, conf)
            xml = (conf / "activemq.xml").read_text()
            connectors = (
                f'<transportConnectors>\n            <transportConnector name="stomp" '
                f'uri="stomp://127.0.0.1:{self.port}?transport.closeAsync=false"/>\n'
            )
            if tls:
                connectors = (
                    f'<sslContext>\n            <sslContext keyStore="file:{tls.keystore}" '
                    f'keyStorePassword="{tls.password}" keyStoreType="{tls.type}"\n'
                    f'                        trustStore="file:{tls.truststore}" '
                    f'trustStorePassword="{tls.password}" trustStoreType="{tls.type}"/>\n'
                    f"        </sslContext>\n        "
                    + connectors
                    + f'            <transportConnector name="stomp+ssl" uri="stomp+ssl://127.0.0.1:'
                    f'{self.tls_port}?needClientAuth=true&amp;transport.closeAsync=false"/>\n'
                )
            connectors += "        </transportConnectors>"
            xml = re.sub(r"<transportConnectors>.*?</transportConnectors>", connectors, xml, flags=re.S)
            (conf / "activemq.xml").write_text(xml)
        (self.work / "data").mkdir(exist_ok=True)

    @property
    def log(self) -> Path:
        return self.work / "data" / "broker.out"

    def start(self, timeout: float = 60.0) -> ActiveMQ:
        work = self.work
        command = [
            "java",
            "-Xms128M",
            "-Xmx384M",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            f"-Dactivemq.home={HOME}",
            f"-Dactivemq.base={work}",
            f"-Dactivemq.conf={work}/conf",
            f"-Dactivemq.data={work}/data",
            f"-Djava.io.tmpdir={work}/data",
            "-jar",
            str(JAR),
            "start",
            f"xbean:file:{work}/conf/activemq.xml",
        ]
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, cwd=work, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerError(f"ActiveMQ exited with {self.process.returncode}; see {self.log}")
            try:
                for port in (self.port, self.tls_port):
                    if port:
                        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                            pass
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        ports = ", ".join(str(p) for p in (self.port, self.tls_port) if p)
        raise BrokerError(f"ActiveMQ did not listen on 127.0.0.1:{ports} within {timeout:.0f}s; see {self.log}")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to our JVM's PID (a clean KahaDB shutdown), SIGKILL if it hangs; reaps it."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self) -> ActiveMQ:
        self.stop()
        return self.start()

    def __enter__(self) -> ActiveMQ:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
