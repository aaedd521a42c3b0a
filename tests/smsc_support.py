"""Test support: the independent test SMSC (tests/smsc/smsc.mjs, on the npm `smpp` package) as a process.

Usage:

    with TestSmsc(accounts={"hg": "secret"}) as smsc:
        config = {"host": "127.0.0.1", "port": smsc.port, "system_id": "hg", "password": "secret"}
        smsc.set_undeliverable("+447700900001")
        ...
        smsc.wait_for(lambda: smsc.submits(), message="no submit_sm reached the SMSC")

Every control call is a small JSON request to the SMSC's control port; nothing here knows Heliograph's
classes, so the tests exercise the SMPP wire and nothing else.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from support import eventually, free_port

SMSC_DIR = Path(__file__).parent / "smsc"
SMSC_SCRIPT = SMSC_DIR / "smsc.mjs"

ESME_RTHROTTLED = 0x58
ESME_RMSGQFUL = 0x14
ESME_RINVDSTADR = 0x0B
ESME_RX_T_APPN = 0x64


def smsc_available() -> bool:
    """node is installed and `npm install` has been run in tests/smsc (.ci/run does it)."""
    return shutil.which("node") is not None and (SMSC_DIR / "node_modules" / "smpp").is_dir()


class TestSmsc:
    """A running test SMSC on free ports. `port` speaks SMPP; `control_port` the JSON control API."""

    __test__ = False  # not a pytest test class

    def __init__(
        self, accounts: dict[str, str] | None = None, log_path: Path | None = None, tls_dir: Path | None = None
    ) -> None:
        """tls_dir: serve SMPP over TLS with a self-signed certificate made there (needs `openssl`)."""
        self.accounts = dict(accounts or {"heliograph": "secret"})
        self.tls_dir = tls_dir
        self.port = free_port()
        self.control_port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{self.control_port}", timeout=5)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> TestSmsc:
        """Start node and wait until both ports answer."""
        if not smsc_available():
            raise RuntimeError("the test SMSC needs node and `npm install` in tests/smsc (see .ci/run)")
        command = ["node", str(SMSC_SCRIPT), "--port", str(self.port), "--control-port", str(self.control_port)]
        for system_id, password in self.accounts.items():
            command += ["--account", f"{system_id}:{password}"]
        if self.tls_dir is not None:
            key, cert = self._self_signed(self.tls_dir)
            command += ["--tls-key", str(key), "--tls-cert", str(cert)]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(command, stdout=out, stderr=out)
        eventually(self._ready, timeout=20, message="the test SMSC did not start")
        return self

    @staticmethod
    def _self_signed(directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        key, cert = directory / "smsc.key", directory / "smsc.crt"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
            + ["-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        return key, cert

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"the test SMSC exited with {self.process.returncode}")
        try:
            return self._http.get("/health").json().get("listening") is True
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        """Kill the node process (SIGKILL: it holds nothing worth a graceful stop)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self._http.close()

    def __enter__(self) -> TestSmsc:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connector_config(self, system_id: str | None = None, password: str | None = None, **extra: Any) -> dict:
        """A dict for `SmppConfig(**...)` pointing at this SMSC with the first account (or the one given)."""
        sid = system_id or next(iter(self.accounts))
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "system_id": sid,
            "password": self.accounts.get(sid, "") if password is None else password,
            **extra,
        }

    # -- control ---------------------------------------------------------------------------------

    def _post(self, path: str, body: dict | None = None) -> Any:
        response = self._http.post(path, json=body or {})
        response.raise_for_status()
        return response.json()

    def configure(self, **options: Any) -> dict:
        """Change SMSC behaviour; keys (defaults): bare_bind_refusal (True), receipts (True),
        receipt_delay_ms (200), shuffle (False), duplicate (False), enroute_first (False),
        receipt_text (True), receipt_tlvs (True), undeliverable ([]), submit_errors ({}),
        throttle_status (0x58), mute_submit_resp (False), redeliver_delay_ms (300)."""
        return self._post("/config", options)

    def reset(self) -> None:
        """Back to the defaults above, no throttling, and an empty log."""
        self._post("/config/reset")
        self._post("/log/clear")

    def add_account(self, system_id: str, password: str) -> None:
        self.accounts[system_id] = password
        self._post("/accounts", {"system_id": system_id, "password": password})

    def throttle(self, seconds: float, status: int = ESME_RTHROTTLED) -> None:
        """Answer every submit_sm with `status` (ESME_RTHROTTLED or ESME_RMSGQFUL) for `seconds`."""
        self._post("/throttle", {"seconds": seconds, "status": status})

    def set_undeliverable(self, *numbers: str) -> None:
        """Receipts for these destinations say UNDELIV (err:001); all others DELIVRD."""
        self.configure(undeliverable=list(numbers))

    def refuse_submits(self, number: str, status: int = ESME_RINVDSTADR) -> None:
        """Answer submit_sm to `number` with `status` (default ESME_RINVDSTADR)."""
        current = self._http.get("/config").json()["submit_errors"]
        self.configure(submit_errors={**current, number.lstrip("+"): status})

    def inject_mo(
        self,
        from_number: str,
        to_number: str,
        text: str,
        *,
        coding: str = "gsm7",
        parts: int = 1,
        concat: str = "udh",
        order: list[int] | None = None,
        system_id: str | None = None,
    ) -> str:
        """Queue a deliver_sm from a handset: coding gsm7 | ucs2; parts > 1 splits the text evenly and
        concatenates with concat = udh (8-bit ref) | udh16 | sar; `order` sends parts out of order
        (e.g. [3, 1, 2]). Returns the MO's id as it appears in `deliver_sm_resps()`."""
        body: dict[str, Any] = {"from": from_number, "to": to_number, "text": text, "coding": coding}
        body.update({"parts": parts, "concat": concat})
        if order:
            body["order"] = order
        if system_id:
            body["system_id"] = system_id
        return self._post("/mo", body)["mo_id"]

    def drop(self) -> None:
        """Destroy every TCP connection at once (mid-traffic); the SMSC keeps listening."""
        self._post("/drop")

    def stop_listening(self) -> None:
        """Close the listening socket and every connection: binds fail until `start_listening`."""
        self._post("/stop")

    def start_listening(self) -> None:
        self._post("/start")

    # -- observation ------------------------------------------------------------------------------

    def log(self) -> dict:
        return self._http.get("/log").json()

    def state(self) -> dict:
        """{listening, bound: [system_id...], connections, owed, owed_receipts}."""
        return self._http.get("/state").json()

    def submits(self) -> list[dict]:
        """Every submit_sm received: source_addr/_ton/_npi, destination_addr, dest_addr_ton/_npi,
        data_coding, esm_class, registered_delivery, udh (hex or None), text (decoded), message_id,
        command_status."""
        return self.log()["submits"]

    def accepted_submits(self) -> list[dict]:
        return [s for s in self.submits() if s["command_status"] == 0 and s["message_id"]]

    def binds(self) -> list[dict]:
        """Every bind attempt: system_id, command, ok."""
        return self.log()["binds"]

    def deliver_sm_resps(self) -> list[dict]:
        """Every deliver_sm_resp: kind (receipt | mo), message_id, stat, mo_id, command_status."""
        return self.log()["deliver_sm_resps"]

    def bound(self) -> list[str]:
        return self.state()["bound"]

    def wait_for(self, check: Callable[[], Any], timeout: float = 15.0, message: str = "") -> Any:
        """`support.eventually` with this SMSC's default patience."""
        return eventually(check, timeout=timeout, message=message)
