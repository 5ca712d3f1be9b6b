"""``edgecraft app new KIND DIR``: a working application template, one ``app.toml`` per kind.

Every template trains offline from a built-in generator; ``[quick]`` shrinks it for tests
(``edgecraft train DIR --quick``).
"""

from __future__ import annotations

from pathlib import Path

from edgecraft.apps.spec import KINDS, SPEC_FILE, SpecError

_COMMON_TAIL = """
[optimization]
method = "ptq"        # ptq | qat
pruning = 0.0         # final sparsity of the weights, 0..0.9

[target]
board = "{board}"
"""

TEMPLATES: dict[str, str] = {
    "sine": """# TFLite Micro's hello world: learn y = sin(x) on [0, 2 pi), deploy it, plot it.
[app]
name = "sine"
kind = "sine"

[data]
generator = "sine"
[data.params]
samples = 1000
noise = 0.1

[front_end]
preset = "none"

[model]
family = "mlp"
size = "small"        # tiny | small | medium | large

[training]
epochs = 300
batch_size = 64
learning_rate = 0.01
patience = 40
seed = 0
"""
    + _COMMON_TAIL
    + """
[stream]
# the device loop of TFLM's hello world: x sweeps [0, 2 pi) in `steps` inferences, one every
# stride_ms; y drives an LED's brightness, (int)(127.5 * (y + 1))
steps = 20
stride_ms = 50

[quick]
"training.epochs" = 60
"data.params.samples" = 400
""",
    "gesture": """# Gestures from a wrist IMU (accelerometer + gyroscope): wave, punch, circle, flex, idle.
# Data from motion models with per-person speed, amplitude, orientation, noise and drift;
# the test people are never seen in training.
[app]
name = "gesture"
kind = "gesture"

[data]
generator = "gesture"
[data.params]
people = 12
test_people = 3
seconds = 20.0
rate = 100.0
window = 128
hop = 32

[front_end]
preset = "imu"
[front_end.params]
axes = 6
sample_rate = 100.0
window_samples = 128
hop_samples = 32

[model]
family = "cnn1d"
size = "small"

[training]
epochs = 40
batch_size = 64
learning_rate = 0.003
patience = 8
seed = 0
[training.augmentation]
noise = 0.05
gain = 0.1
copies = 1
"""
    + _COMMON_TAIL
    + """
[stream]
stride_ms = 320
smoothing_ms = 1000
threshold = 0.6
suppression_ms = 3000
min_count = 2
ignore = ["idle"]

[quick]
"training.epochs" = 12
"data.params.people" = 6
"data.params.test_people" = 2
"data.params.seconds" = 8.0
"training.augmentation.copies" = 0
""",
    "kws": """# Keyword spotting: yes, no, up, down, left, right, on, off, stop, go, plus unknown and
# silence. Speech synthesized by espeak-ng across voices, speeds, pitches and variants, shifted
# in time, mixed with background noise; the test voices are never heard in training. Also
# measured: false accepts per hour on a long recording of non-keyword speech and noise.
[app]
name = "kws"
kind = "kws"

[data]
generator = "kws"
[data.params]
voices = 60
test_voices = 16
takes = 2
unknown_per_voice = 6
silence_per_voice = 3
speech_per_voice = 6  # hard negatives: seconds cut from running speech ("unknown"), per voice
fa_minutes = 10.0

[front_end]
preset = "kws-mfcc"   # MLPerf Tiny's KWS front end: 49 x 10 MFCC of 1 s at 16 kHz

[model]
family = "ds-cnn"
size = "small"        # medium: MLPerf Tiny's DS-CNN (64 channels, 4 blocks)

[training]
epochs = 30
batch_size = 64
learning_rate = 0.003
schedule = "cosine"   # the learning rate falls to 0 over the epochs
patience = 6
seed = 0
[training.augmentation]
shift = 0.1
noise = 0.05
copies = 1
"""
    + _COMMON_TAIL
    + """
[stream]
stride_ms = 250
smoothing_ms = 500
threshold = 0.7
suppression_ms = 1000
min_count = 1
ignore = ["silence", "unknown"]
# training tunes threshold, smoothing, suppression and min_count on recordings of the training
# voices (keywords among other speech) for at most this many false accepts per hour
max_fa_per_hour = 6.0

[quick]
"data.params.voices" = 10
"data.params.test_voices" = 3
"data.params.unknown_per_voice" = 3
"data.params.silence_per_voice" = 2
"data.params.speech_per_voice" = 2
"data.params.fa_minutes" = 0.5
"model.size" = "small"
"training.epochs" = 30
"training.batch_size" = 16
"training.augmentation.copies" = 0
""",
    "anomaly": """# Machine sound anomaly detection, trained on normal sound only: a physical model of
# machines (shaft harmonics, gear mesh, resonance, load changes, noise) with faults (bearing,
# imbalance, looseness, friction) in the test. Autoencoder on log-mel features (as MLPerf
# Tiny's AD) and a k-means clustering detector; AUC and pAUC on machines never heard in
# training; the threshold is chosen on normal clips only.
[app]
name = "anomaly"
kind = "anomaly"

[data]
generator = "anomaly"
[data.params]
machines = 8
test_machines = 3
clips = 60
test_clips = 30
seconds = 1.0

[front_end]
preset = "kws-log-mel"
[front_end.params]
mel_bins = 16
hop_samples = 640
mel_high_hz = 8000.0
normalize = "none"

[model]
family = "autoencoder"
size = "small"

[training]
epochs = 60
batch_size = 32
learning_rate = 0.002
patience = 10
seed = 0
"""
    + _COMMON_TAIL
    + """
[stream]
stride_ms = 500
smoothing_ms = 1000
threshold = 0.5
suppression_ms = 3000
ignore = ["normal"]

[quick]
"data.params.machines" = 6
"data.params.test_machines" = 2
"data.params.clips" = 30
"data.params.test_clips" = 16
"training.epochs" = 25
""",
    "person": """# Visual wake words: is there a person in the picture? MobileNet v1 (0.25) at 96x96 RGB.
# The built-in generator draws people over clutter; for real photos (e.g. the Visual Wake
# Words set made from COCO) lay them out as an ImageFolder and set path instead:
#   vww/person/*.jpg  vww/non_person/*.jpg   (or vww/train/<label>/..., vww/test/<label>/...)
[app]
name = "person"
kind = "person"

[data]
generator = "person"          # or: path = "vww"
[data.params]
images = 5000
test_images = 300
size = 96

[front_end]
preset = "vww-image"          # 96x96 RGB, (x - 128) / 128

[model]
family = "mobilenet"
size = "small"

[training]
epochs = 40
batch_size = 32
learning_rate = 0.003
schedule = "cosine"           # the learning rate falls to 0 over the epochs
patience = 12
seed = 0
[training.augmentation]
shift = 0.15                  # every epoch: each picture moved by up to 15 % of its size
flip = true                   # and mirrored left-right half the time
"""
    + _COMMON_TAIL
    + """
[stream]
# a camera frame every stride_ms (`edgecraft stream DIR --images FOLDER`): the person score is
# averaged over smoothing_ms of frames, must reach the threshold on min_count frames in a row,
# and a person is reported again only after suppression_ms
stride_ms = 500
smoothing_ms = 1000
threshold = 0.6
suppression_ms = 5000
min_count = 2
ignore = ["non_person"]

[quick]
"data.params.images" = 360
"data.params.test_images" = 60
"training.patience" = 6
"data.params.size" = 32
"front_end.params.height" = 32
"front_end.params.width" = 32
"training.epochs" = 15
"training.learning_rate" = 0.002
""",
    "wakeword": """# A streaming wake word, "marvin" (labels marvin, silence, unknown, as MLPerf Tiny's
# str_ww), spoken by espeak-ng voices over background noise, with near misses ("martin",
# "marble") among the unknown words; the test voices are never heard in training. Measured:
# accuracy, false accepts per hour on non-wake-word speech, detections on a demo recording.
[app]
name = "wakeword"
kind = "wakeword"

[data]
generator = "wakeword"
[data.params]
voices = 60
test_voices = 16
takes = 6
unknown_per_voice = 6
silence_per_voice = 3
fa_minutes = 10.0

[front_end]
preset = "kws-log-mel"   # 49 x 40 log-mel of 1 s at 16 kHz

[model]
family = "ds-cnn"
size = "small"

[training]
epochs = 30
batch_size = 64
learning_rate = 0.003
patience = 6
seed = 0
[training.augmentation]
shift = 0.1
noise = 0.05
copies = 1
"""
    + _COMMON_TAIL
    + """
[stream]
stride_ms = 250
smoothing_ms = 750
threshold = 0.8
suppression_ms = 1500
min_count = 2
ignore = ["silence", "unknown"]
# tuned in training on the training voices' recordings for at most this many false accepts per hour
max_fa_per_hour = 6.0

[quick]
"data.params.voices" = 10
"data.params.test_voices" = 3
"data.params.takes" = 3
"data.params.unknown_per_voice" = 3
"data.params.silence_per_voice" = 2
"data.params.fa_minutes" = 0.5
"training.epochs" = 25
"training.batch_size" = 16
"training.augmentation.copies" = 0
""",
}


def available() -> tuple[str, ...]:
    """The kinds that have a template."""
    return tuple(k for k in KINDS if k in TEMPLATES)


def new_app(kind: str, root: str | Path, board: str = "nano33ble") -> Path:
    """Write the ``kind`` template into ``root`` (created; it must not hold an app already)."""
    if kind not in TEMPLATES:
        raise SpecError(f"unknown application kind {kind!r}; choose one of: {', '.join(available())}")
    root = Path(root)
    path = root / SPEC_FILE
    if path.exists():
        raise SpecError(f"{path} already exists; choose a new directory")
    if root.exists() and not root.is_dir():
        raise SpecError(f"{root} exists and is not a directory")
    root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(TEMPLATES[kind].format(board=board))
    tmp.replace(path)
    return path
