"""What the README promises about commands, flags and tags is what the tool has."""

from __future__ import annotations

import re
from pathlib import Path

from ome_harness.scenarios.plugin import COVERAGE_TAGS, MARKERS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def commands_block() -> dict[str, set[str]]:
    """Flags per command, from the README's `## Commands` synopsis."""
    block = README.split("## Commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    flags: dict[str, set[str]] = {}
    command = ""
    for line in block.splitlines():
        if line.startswith("ome-harness "):
            command = line.split()[1]
        if command:
            flags.setdefault(command, set()).update(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b",
                                                               line))
    return flags


def test_every_flag_in_the_readme_synopsis_is_in_the_commands_help(run_cli) -> None:
    documented = commands_block()
    assert {"diagnose", "run", "emulator"} <= set(documented)
    assert {"--rtmp-url", "--srt-url", "--llhls-url", "--webrtc-url", "--stream-prefix"} <= documented["run"]
    for command, flags in documented.items():
        shown = run_cli(command, "--help", env={"COLUMNS": "250", "TERM": "dumb"})
        assert shown.code == 0, shown.output
        missing = sorted(f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}\b", shown.stdout))
        assert not missing, f"`ome-harness {command} --help` lacks {missing}"


def test_the_readme_tag_table_names_every_tag_the_features_carry() -> None:
    table = README.split("| tag | carried by | needs |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"`@([a-z0-9_]+)`", table))
    used = {tag for feature in (REPO / "features").glob("*.feature")
            for tag in re.findall(r"(?<!\w)@([a-z0-9_]+)", feature.read_text())}
    assert used == documented, f"features carry {sorted(used - documented)} undocumented; " \
                               f"documented but unused: {sorted(documented - used)}"
    assert documented <= set(MARKERS | COVERAGE_TAGS), sorted(documented - set(MARKERS | COVERAGE_TAGS))


def test_the_backend_scenario_the_readme_says_media_picks_carries_media() -> None:
    name = re.search(r'the backend scenario "([^"]+)"', README)
    assert name is not None
    feature = (REPO / "features" / "backend_lifecycle.feature").read_text()
    before = feature.split(f"Scenario: {name.group(1)}", 1)[0].rstrip().splitlines()[-1]
    assert "@media" in before
