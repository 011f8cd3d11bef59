"""How the command line's help reads: flags show bare (`--gzip`), not `--gzip <bool>`."""

from __future__ import annotations

from typer.core import TyperCommand, TyperGroup


class _BareFlags:
    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # Typer would show the type, `<bool>`, of a switch
        return params


class Command(_BareFlags, TyperCommand):
    """A command whose help shows its flags bare."""


class Group(_BareFlags, TyperGroup):
    """A group of commands whose help shows its flags bare."""
