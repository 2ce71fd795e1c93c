"""Counter camera: decoders on a generated hard set, and the camera worker's cost.

Generates its own hard set of 1280x720 counter scenes (agent.camera.synth): Code128 20-digit codes
and GS1 DataMatrix, upright, tilted 15-75 degrees, at 90 degrees, blurred, at half scale, JPEG
quality 50, low contrast and noisy, plus scenes with no code at all. Each decoder reads every
frame of the set once per run, on one core (OpenCV limited to one thread, time measured as the
thread's CPU time, so other work on the machine does not count against it).

Prints, one line each as `name: value unit`:
  decode_fps_<name> / success_rate_<name> for pyzbar, zxing (full frame) and pipeline,
  success_rate_pipeline_tilted (Code128 at 15-75 degrees), wrong_decodes_pipeline,
  variants_pipeline_below_best_single (variants where the pipeline reads less than the best decoder),
  camera_cpu_percent / camera_rss_mb: the camera worker in its own process replaying a counter video
  in real time and analysing 10 frames/s, measured with psutil.
Repeated figures are the median of the runs with the min-max spread. Run: `python bench/camera.py`
(`--variants` adds one line per decoder, symbology and variant).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.camera import synth  # noqa: E402
from agent.camera.decode import DecodePipeline  # noqa: E402
from agent.camera.decoders import PyzbarDecoder, ZxingDecoder  # noqa: E402
from agent.camera.profile import parse_profile  # noqa: E402
from agent.camera.worker import CameraWorker  # noqa: E402

SEEDS = (101, 202)     # one run per seed: a fresh hard set each time
PER_VARIANT = 6        # frames per (symbology, variant) per run
EMPTY = 12             # frames without any code per run
TILTED_EXTRA = 4       # extra tilted Code128 frames per tilt per run
CAMERA_SECONDS = 10    # measuring window of the camera worker


def _figure(name: str, values: list[float], unit: str, digits: int = 2, what: str = "runs") -> None:
    if len(values) == 1:
        print(f"{name}: {values[0]:.{digits}f} {unit}")
        return
    print(f"{name}: {statistics.median(values):.{digits}f} {unit} "
          f"(median of {len(values)} {what}, {min(values):.{digits}f}-{max(values):.{digits}f})")


def _plain(text: str) -> str:
    return text[3:] if text.startswith("]") else text


def _decoders() -> dict[str, object]:
    return {"pyzbar": PyzbarDecoder(), "zxing": ZxingDecoder(), "pipeline": DecodePipeline()}


def _run(decoder: object, cases: list[synth.HardCase], empty: list[np.ndarray]
         ) -> tuple[float, dict[tuple[str, str], list[int]], int]:
    """(frames per CPU-second, {(symbology, variant): [read, total]}, wrong decodes)."""
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    wrong = 0
    spent = 0.0
    frames = [(c, cv2.cvtColor(c.image, cv2.COLOR_BGR2GRAY)) for c in cases]
    frames += [(None, cv2.cvtColor(e, cv2.COLOR_BGR2GRAY)) for e in empty]
    for case, gray in frames:
        start = time.thread_time()
        texts = [_plain(d.text) for d in decoder.decode(gray)]  # type: ignore[attr-defined]
        spent += time.thread_time() - start
        expected = case.expected if case is not None else None
        wrong += sum(1 for t in texts if t != expected)
        if case is not None:
            cell = tally[(case.symbology, case.variant)]
            cell[0] += expected in texts
            cell[1] += 1
    return len(frames) / spent, tally, wrong


def _rate(tally: dict[tuple[str, str], list[int]], keys: list[tuple[str, str]] | None = None) -> float:
    cells = [tally[k] for k in (keys or list(tally))]
    return sum(c[0] for c in cells) / max(1, sum(c[1] for c in cells))


def decoder_figures(show_variants: bool) -> None:
    decoders = _decoders()
    fps: dict[str, list[float]] = defaultdict(list)
    totals: dict[str, dict[tuple[str, str], list[int]]] = {n: defaultdict(lambda: [0, 0]) for n in decoders}
    wrong_pipeline = 0
    tilted = [("code128", v) for v in synth.TILTED]
    for seed in SEEDS:
        cases = synth.hard_set(seed=seed, per_variant=PER_VARIANT)
        rng = random.Random(seed + 1)
        cases += [synth.scene_with_code(rng, "code128", v) for v in synth.TILTED for _ in range(TILTED_EXTRA)]
        empty = [synth.degrade(synth.counter_scene(rng), rng, noise=rng.choice([3.0, 8.0]), jpeg=60)
                 for _ in range(EMPTY)]
        for name, decoder in decoders.items():
            rate, tally, wrong = _run(decoder, cases, empty)
            fps[name].append(rate)
            for key, (read, total) in tally.items():
                totals[name][key][0] += read
                totals[name][key][1] += total
            if name == "pipeline":
                wrong_pipeline += wrong
    for name in decoders:
        _figure(f"decode_fps_{name}", fps[name], "fps", 1)
        print(f"success_rate_{name}: {_rate(totals[name]):.3f} ratio")
    print(f"success_rate_pipeline_tilted: {_rate(totals['pipeline'], tilted):.3f} ratio")
    print(f"wrong_decodes_pipeline: {wrong_pipeline} count")
    below = [k for k in totals["pipeline"]
             if _rate(totals["pipeline"], [k]) < max(_rate(totals[n], [k]) for n in ("pyzbar", "zxing"))]
    print(f"variants_pipeline_below_best_single: {len(below)} count")
    if show_variants:
        for name in decoders:
            for (symbology, variant), (read, total) in sorted(totals[name].items()):
                print(f"success_rate_{name}_{symbology}_{variant}: {read / total:.3f} ratio")


def _counter_video(path: Path, seconds: int = 6, fps: int = 10) -> None:
    """A counter seen from above: a person (scikit-image's astronaut, if installed) and boxes passing by."""
    rng = random.Random(7)
    base = synth.counter_scene(rng)
    try:
        from skimage import data

        person = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
        base[60:60 + 500, 720:720 + 500] = cv2.resize(person, (500, 500))
    except ImportError:  # scikit-image is a test extra; the cost is similar without a person
        pass
    codes = [synth.code128_patch(synth.nmpa_code(rng)) for _ in range(3)]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (1280, 720))
    for i in range(seconds * fps):
        patch = codes[(i // (2 * fps)) % len(codes)]
        frame = synth.place(base, patch, (300 + 10 * (i % (2 * fps)), 420), 25 + i % 40)
        writer.write(synth.degrade(frame, rng, noise=3.0, jpeg=85))
    writer.release()


def camera_figures() -> None:
    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / "counter.avi"
        _counter_video(video)
        profile = parse_profile({
            "name": "bench",
            "source": {"uri": str(video), "realtime": True, "loop": True, "max_fps": 10.0},
            "analysis": {"rate": 10.0, "mode": "process"},
        })
        worker = CameraWorker(profile)
        worker.start()
        try:
            if not worker.ring.wait_for(lambda s: len(s) >= 20, timeout=60):
                raise SystemExit(f"camera worker produced no analyses: {worker.error}")
            proc = psutil.Process(worker.pid)
            proc.cpu_percent(None)
            cpu, rss = [], []
            start = worker.ring.appended
            began = time.monotonic()
            for _ in range(CAMERA_SECONDS):
                time.sleep(1.0)  # a sampling interval, not synchronisation
                cpu.append(proc.cpu_percent(None))
                rss.append(proc.memory_info().rss / 2**20)
            rate = (worker.ring.appended - start) / (time.monotonic() - began)
        finally:
            worker.stop()
    _figure("camera_cpu_percent", cpu, "%", 1, "1-s samples")
    _figure("camera_rss_mb", rss, "MiB", 1, "1-s samples")
    print(f"camera_analyses_per_s: {rate:.1f} fps")


def main() -> None:
    cv2.setNumThreads(1)
    decoder_figures("--variants" in sys.argv[1:])
    camera_figures()


if __name__ == "__main__":
    main()
