"""`nidaa config validate FILE`, `nidaa config example` and `nidaa config reference`."""

from __future__ import annotations

import argparse
from typing import Any

from ..config.branch import load_config
from .env import Environment, ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="check a branch configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    v = csub.add_parser("validate", help="validate FILE and list every problem with its path")
    v.add_argument("file")
    v.set_defaults(func=validate)
    e = csub.add_parser("example", help="print the example branch (a start for a real one)")
    e.set_defaults(func=example)
    r = csub.add_parser("reference", help="print the configuration reference (Markdown)")
    r.set_defaults(func=reference)


def validate(args: argparse.Namespace, env: Environment) -> int:
    cfg = load_config(args.file)
    env.out(
        f"{args.file}: valid — branch {cfg.branch.id}, {len(cfg.services)} services, "
        f"{len(cfg.counters)} counters"
    )
    if cfg.sms is not None:
        from ..sms.config import longest_values, template_parts

        longest = longest_values(cfg)
        env.out(
            f"SMS parts per template (at most {cfg.sms.max_parts}), filled with centre "
            f"{longest['centre']!r}, ticket {longest['ticket']!r}, ref {longest['ref']!r}:"
        )
        for stage, parts in template_parts(cfg).items():
            env.out(f"  {stage:<12} {parts}")
    return ExitCode.OK


def example(args: argparse.Namespace, env: Environment) -> int:
    from ..config.example import example_text

    env.stdout.write(example_text())
    return ExitCode.OK


def reference(args: argparse.Namespace, env: Environment) -> int:
    from ..tech.docs import configuration_reference

    env.stdout.write(configuration_reference())
    return ExitCode.OK
