"""``rf completion bash``: a completion script generated from the command tree (no runtime hook needed)."""

from __future__ import annotations

import argparse


def _words(parser: argparse.ArgumentParser) -> tuple[list[str], dict[str, argparse.ArgumentParser]]:
    options = [s for a in parser._actions for s in a.option_strings]  # argparse has no public API for its tree
    subs: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            subs.update(action.choices)
    return options, subs


def bash_script(parser: argparse.ArgumentParser) -> str:
    """A bash ``complete -F`` function: commands, then verbs, then each verb's options."""
    cases = []
    top_options, groups = _words(parser)
    cases.append(f'    "") words="{" ".join([*groups, *top_options])}" ;;')
    for group, sub in groups.items():
        options, verbs = _words(sub)
        cases.append(f'    "{group}") words="{" ".join([*verbs, *options])}" ;;')
        for verb, leaf in verbs.items():
            leaf_options, _ = _words(leaf)
            cases.append(f'    "{group} {verb}") words="{" ".join(leaf_options)}" ;;')
    body = "\n".join(cases)
    return f"""# rf completion for bash: eval "$(rf completion bash)"
_rf_complete() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" path="" words="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${{COMP_WORDS[i]}}"
    [[ "$w" == -* ]] && continue
    [[ -z "$path" ]] && {{ path="$w"; continue; }}
    [[ "$path" != *" "* ]] && {{ path="$path $w"; break; }}
  done
  case "$path" in
{body}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -o default -F _rf_complete rf
"""
