"""Run every benchmark: `python -m benchmarks [--learners N]`."""

from __future__ import annotations

import argparse

from benchmarks import bench_generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--learners",
        type=int,
        default=20_000,
        help="learners in the generated program (default 20,000)",
    )
    parser.add_argument("--weeks", type=int, default=26)
    args = parser.parse_args()
    bench_generate.run(args.learners, args.weeks)


if __name__ == "__main__":
    main()
