"""scripts/campaign_pause.sh stops every process under the campaign, the kernel in its own session included."""

import subprocess
import time
from pathlib import Path

import pytest

from vt.paths import ROOT

PAUSE = ROOT / "scripts" / "campaign_pause.sh"


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_stop_reaches_a_grandchild_in_its_own_session_and_continue_lets_it_go_on(tmp_path):
    fake = tmp_path / "scripts" / "campaign_cpu.sh"  # a campaign whose "kernel" starts a session of its own
    fake.parent.mkdir()
    fake.write_text(f"setsid sleep 60 & echo $! > {tmp_path / 'kernel.pid'}\nwait\n")
    campaign = subprocess.Popen(["bash", "scripts/campaign_cpu.sh"], cwd=tmp_path)
    try:
        for _ in range(100):
            if (tmp_path / "kernel.pid").exists() and (tmp_path / "kernel.pid").read_text().strip():
                break
            time.sleep(0.05)
        kernel = int((tmp_path / "kernel.pid").read_text())
        stop = subprocess.run(["bash", str(PAUSE), "stop", str(tmp_path)], capture_output=True, text=True, check=True)
        assert stop.stdout.startswith("campaign: stop")
        assert _state(campaign.pid) == "T" and _state(kernel) == "T"
        subprocess.run(["bash", str(PAUSE), "continue", str(tmp_path)], capture_output=True, text=True, check=True)
        assert _state(campaign.pid) != "T" and _state(kernel) != "T"
    finally:
        subprocess.run(["pkill", "-KILL", "-f", str(tmp_path)], check=False)
        campaign.kill()
        campaign.wait()


def test_without_a_campaign_or_with_a_wrong_word_it_says_so_in_one_line(tmp_path):
    wrong = subprocess.run(["bash", str(PAUSE), "pause"], capture_output=True, text=True)
    assert wrong.returncode == 2 and wrong.stderr.startswith("usage: ")
    none = subprocess.run(["bash", str(PAUSE), "stop", str(tmp_path)], capture_output=True, text=True)
    assert none.returncode == 2
    assert none.stderr.strip() == f"error: no campaign of {tmp_path.resolve()} is running (scripts/campaign_cpu.sh)"
