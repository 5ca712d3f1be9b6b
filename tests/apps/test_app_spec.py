"""The application spec: templates read back, [quick] overrides, and one clear line per mistake
(exit 2 from the CLI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgecraft.apps.spec import SpecError, load_spec
from edgecraft.apps.templates import TEMPLATES, new_app


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_template_loads_full_and_quick(tmp_path: Path, kind: str) -> None:
    new_app(kind, tmp_path / kind)
    full, quick = load_spec(tmp_path / kind), load_spec(tmp_path / kind, quick=True)
    assert full.kind == kind and full.generator == kind and full.board == "nano33ble"
    assert quick.data_params != full.data_params  # --quick makes less data
    assert quick.out.name == "build-quick" and full.out.name == "build"


def _spec(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "app"
    d.mkdir(exist_ok=True)
    (d / "app.toml").write_text(text)
    return d


BASE = '[app]\nkind = "sine"\n[data]\ngenerator = "sine"\n[model]\nfamily = "mlp"\n'


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[training]\nepochs = 0\n", "training.epochs must be > 0"),
        ('[training]\nepochs = "ten"\n', "training.epochs must be a int"),
        ("[training]\nepoch = 3\n", "training.epoch is not a known key"),
        ('[optimization]\nmethod = "fp16"\n', "optimization.method must be ptq or qat"),
        ("[optimization]\npruning = 0.95\n", "optimization.pruning must be in 0..0.9"),
        ("[stream]\nthreshold = 1.5\n", "stream.threshold must be in (0, 1]"),
        ("[stream]\nignore = [1]\n", "stream.ignore must be a list of label names"),
        ("[stream]\nmax_fa_per_hour = -1\n", "stream.max_fa_per_hour must be >= 0"),
        ("[stream]\nsteps = 0\n", "stream.steps must be > 0"),
        ('[training]\nschedule = "linear"\n', "training.schedule must be constant or cosine"),
        ("[training.augmentation]\nflip = 1\n", "training.augmentation.flip must be a bool"),
        ("[model]\n", "Cannot declare"),
    ],
)
def test_mistakes_are_one_line(tmp_path: Path, extra: str, message: str) -> None:
    d = _spec(tmp_path, BASE + extra)
    with pytest.raises(SpecError) as e:
        load_spec(d)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_kind_data_and_model_are_checked(tmp_path: Path) -> None:
    for text, message in [
        ('[app]\nkind = "radar"\n', "app.kind must be one of"),
        ('[app]\nkind = "sine"\n[model]\nfamily = "mlp"\n', "needs exactly one of generator"),
        ('[app]\nkind = "sine"\n[data]\npath = "nowhere"\n[model]\nfamily = "mlp"\n', "does not exist"),
        ('[app]\nkind = "sine"\n[data]\ngenerator = "sine"\n', "needs family"),
        ('[app]\nkind = "sine"\n[data]\ngenerator = "sine"\n[model]\nfactory = "m.py"\n', "FILE.py:FUNCTION"),
        ("[app\n", "not valid TOML"),
    ]:
        with pytest.raises(SpecError) as e:
            load_spec(_spec(tmp_path, text))
        assert message in str(e.value), (text, str(e.value))
    with pytest.raises(SpecError, match=r"has no app\.toml"):
        load_spec(tmp_path)


def test_quick_overrides_dotted_keys(tmp_path: Path) -> None:
    d = _spec(
        tmp_path,
        BASE + '[training]\nepochs = 50\n[quick]\n"training.epochs" = 2\n"data.params.samples" = 64\n',
    )
    assert load_spec(d).training.epochs == 50 and load_spec(d).data_params == {}
    q = load_spec(d, quick=True)
    assert q.training.epochs == 2 and q.data_params == {"samples": 64}


def test_cli_errors_exit_2(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True, timeout=120
        )

    bad = run("app", "new", "radar", str(tmp_path / "x"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: unknown application kind 'radar'")
    ok = run("app", "new", "sine", str(tmp_path / "s"), "--format", "json")
    assert ok.returncode == 0 and '"kind": "sine"' in ok.stdout
    again = run("app", "new", "sine", str(tmp_path / "s"))
    assert again.returncode == 2 and "already exists" in again.stderr
    (tmp_path / "s" / "app.toml").write_text(BASE + "[training]\nepochs = -1\n")
    train = run("train", str(tmp_path / "s"))
    assert train.returncode == 2 and "training.epochs must be > 0" in train.stderr
    assert len(train.stderr.strip().splitlines()) == 1
    untrained = run("stream", str(tmp_path / "s"), "--csv", str(tmp_path / "s" / "app.toml"))
    assert untrained.returncode == 2


def test_an_audio_rate_the_generator_does_not_make_is_refused(tmp_path: Path) -> None:
    """The kws generator records at 16 kHz and training does not resample: an 8 kHz front end
    is one error line before any data are made (it trained on wrongly timed features)."""
    d = tmp_path / "k"
    new_app("kws", d)
    (d / "app.toml").write_text((d / "app.toml").read_text() + "\n[front_end.params]\nsample_rate = 8000\n")
    train = subprocess.run([sys.executable, "-m", "edgecraft", "train", str(d), "--quick"],
                           capture_output=True, text=True, timeout=120)
    assert train.returncode == 2, train.stderr[-500:]
    assert "sample_rate is 8000 Hz but the kws generator records at 16000 Hz" in train.stderr
    assert len(train.stderr.strip().splitlines()) == 1
