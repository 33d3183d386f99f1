"""Shell completion, as the README enables it: click's script, run by a real bash."""

import os
import subprocess
import sys
from pathlib import Path

from tests.support.processes import pixtag_env

BIN = Path(sys.executable).parent


def test_the_bash_completion_script_completes_command_names_in_bash(tmp_path: Path):
    env = pixtag_env(PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    script = subprocess.run(
        ["pixtag"],
        env={**env, "_PIXTAG_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "complete -o nosort -F _pixtag_completion pixtag" in script
    (tmp_path / "pixtag-complete.bash").write_text(script)
    # What bash does on `pixtag s<TAB>` and `pixtag ls --a<TAB>`: set COMP_WORDS and
    # COMP_CWORD, call the function the script registered, read COMPREPLY.
    session = f"""
        source {tmp_path / "pixtag-complete.bash"}
        complete -p pixtag
        COMP_WORDS=(pixtag s); COMP_CWORD=1; COMPREPLY=()
        _pixtag_completion pixtag
        echo "commands: ${{COMPREPLY[*]}}"
        COMP_WORDS=(pixtag ls --a); COMP_CWORD=2; COMPREPLY=()
        _pixtag_completion pixtag
        echo "options: ${{COMPREPLY[*]}}"
    """
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", session],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "complete -o nosort -F _pixtag_completion pixtag",
        "commands: serve storage show share similar",
        "options: --all --any",
    ]
