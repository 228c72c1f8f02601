"""The three places that pin packages agree, so conda and pip learners get the same course."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def test_environment_yml_matches_requirements():
    requirements = pins((ROOT / "requirements.txt").read_text().splitlines())
    conda = pins((ROOT / "environment.yml").read_text().splitlines())
    assert conda == requirements


def test_every_requirement_is_exactly_pinned_and_locked():
    requirements = pins((ROOT / "requirements.txt").read_text().splitlines())
    raw = [l for l in (ROOT / "requirements.txt").read_text().splitlines()
           if l.strip() and not l.startswith("#")]
    assert len(raw) == len(requirements), "every requirement must be pinned with =="
    lock = pins((ROOT / "constraints.txt").read_text().splitlines())
    for name, version in requirements.items():
        if name == "torch":
            assert version == "2.13.0"          # the CPU build on disk; installed first
            continue
        assert lock.get(name) == version, f"{name}: requirements {version}, lock {lock.get(name)}"
