"""python -m bench --help: the benchmark as its own program (docs/benchmarks.md)."""

from __future__ import annotations

import os

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench.cli import main  # models load only after django.setup()

    main()
