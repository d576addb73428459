"""Benchmark the dialogue core: how fast whole sessions run on the simulated clock.

    .venv/bin/python scripts/bench_session.py [--runs 20] [--json]

Reports the median and p95 wall time of one full all-clear session (about 28 simulated
minutes, both feet) and of one busy session (pauses, pain, voice commands), the session
time simulated per wall second, and peak memory.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from pathlib import Path

from assistant.intents import Grammars
from assistant.protocol import load_protocol
from assistant.script import ScriptedUser, parse_script
from assistant.simulate import Simulation

ALL_CLEAR = (Path(__file__).resolve().parent.parent / "tests" / "scripts" / "all_clear.txt").read_text(
    encoding="utf-8")
BUSY = ALL_CLEAR + """in effleurage +40: hold on
after +90: carry on
in petrissage +60: that hurts
when go_on: yes please
after +10: how long is left
in toes +20: slower
after +5: louder
after +30: repeat
in ankle +30: skip
"""


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bench(script: str, runs: int) -> dict[str, float]:
    protocol, grammars = load_protocol(), Grammars()
    walls, simulated = [], 0.0
    for _ in range(runs):
        start = time.perf_counter()
        sim = Simulation(protocol, grammars, ScriptedUser(parse_script(script)))
        sim.run()
        walls.append(time.perf_counter() - start)
        simulated = sim.events[-1]["t"]
    walls.sort()
    median = statistics.median(walls)
    return {
        "median_ms": round(median * 1000, 1),
        "p95_ms": round(walls[min(len(walls) - 1, int(0.95 * len(walls)))] * 1000, 1),
        "simulated_s": simulated,
        "speedup": round(simulated / median),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {
        "all_clear": bench(ALL_CLEAR, args.runs),
        "busy": bench(BUSY, args.runs),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": f"{cpu_model()}, {platform.machine()}, Python {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name in ("all_clear", "busy"):
            r = result[name]
            print(f"{name:9s}: median {r['median_ms']} ms, p95 {r['p95_ms']} ms for "
                  f"{r['simulated_s'] / 60:.1f} simulated minutes ({r['speedup']}x real time)")
        print(f"peak RSS {result['peak_rss_mb']} MB; {result['machine']}")


if __name__ == "__main__":
    main()
