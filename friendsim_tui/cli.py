"""Command line: ``friendsim-tui`` opens the app; subcommands run the same engine headless.

Keep this module light: no torch, transformers or Textual at import time, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from friendsim_tui import __version__
from friendsim_tui.turns import Turn
from friendsim_tui.config import TrainConfig, format_duration


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="friendsim-tui",
        description="Turn chat logs with your friends into a language model you can role-play with.",
        epilog="Run without a command to open the app.",
    )
    p.add_argument("--version", action="version", version=f"friendsim-tui {__version__}")
    p.add_argument("--data-dir", metavar="DIR", help="where workspaces live (default: $FRIENDSIM_HOME or the user data dir)")
    p.add_argument("--config", metavar="PATH", help="settings file (default: the user config dir's config.toml)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    imp = sub.add_parser("import", help="import chat exports into a workspace")
    imp.add_argument("paths", nargs="+", metavar="PATH", help="export files or folders")
    imp.add_argument("--workspace", "-w", required=True, help="workspace name (created if missing)")
    imp.add_argument("--json", action="store_true", help="print one JSON object with the summary")
    imp.add_argument("--dry-run", action="store_true", help="read and summarize without writing anything")

    ws = sub.add_parser("workspaces", help="list workspaces")
    ws.add_argument("--json", action="store_true")

    sp = sub.add_parser("speakers", help="list, rename, merge or exclude a workspace's speakers")
    sp.add_argument("--workspace", "-w", required=True)
    sp.add_argument("--rename", nargs=2, metavar=("NAME", "NEW"), help="rename; an existing NEW merges the two")
    sp.add_argument("--exclude", metavar="NAME", help="leave this speaker out of training")
    sp.add_argument("--include", metavar="NAME", help="undo --exclude")
    sp.add_argument("--json", action="store_true")

    ds = sub.add_parser("dataset", help="sessions, split and per-speaker statistics of a workspace")
    ds.add_argument("--workspace", "-w", required=True)
    ds.add_argument("--json", action="store_true")
    ds.add_argument("--text", action="store_true",
                    help="print the text the model learns from, after redaction, each turn as Speaker: text")
    ds.add_argument("--split", choices=("train", "eval"), help="with --text: only this part (default: both)")

    tr = sub.add_parser("train", help="fine-tune a model on a workspace (runs under torchrun / accelerate too)",
                        description="Train a model on a workspace. Settings not given here come from [train] in "
                                    "the settings file. Progress goes to stderr and to the run's events.jsonl.")
    tr.add_argument("--workspace", "-w", help="workspace to train on (required unless --list-bases)")
    tr.add_argument("--run", "--run-name", dest="run",
                    help="run name (default: a new one from the time and base); under torchrun, whose own "
                         "--run-path swallows --run, write --run-name")
    _train_flags(tr)
    tr.add_argument("--resume", action="store_true", help="continue --run from its newest complete checkpoint")
    tr.add_argument("--list-bases", action="store_true", help="print the base catalog with memory estimates")
    tr.add_argument("--train-config", metavar="PATH", help=argparse.SUPPRESS)  # the app's run: all its settings

    rn = sub.add_parser("runs", help="list a workspace's training runs")
    rn.add_argument("--workspace", "-w", required=True)
    rn.add_argument("--json", action="store_true")
    rn.add_argument("--stop", metavar="RUN", help="ask a running run to save a checkpoint and stop")

    gen = sub.add_parser("generate", help="sample candidate replies, or whole conversations, from a trained run",
                         description="Play as one friend: sample the others' candidate next turns after a "
                                     "history. With --conversation, the model writes whole conversations. A "
                                     "turn that copies a training message is marked (said before; "
                                     '"verbatim": true with --json); with [chat] hide_copies = true, such '
                                     "candidates are drawn again instead.")
    gen.add_argument("--workspace", "-w", required=True)
    gen.add_argument("--run", help="run name (default: the workspace's newest completed run)")
    gen.add_argument("--as", dest="player", metavar="SPEAKER",
                     help="the friend you play (needed without --conversation)")
    gen.add_argument("--history", metavar="FILE", help='JSON lines {"speaker": ..., "text": ...}, oldest first')
    gen.add_argument("-n", type=int, metavar="N",
                     help="how many candidates or conversations (default: [chat] candidates)")
    gen.add_argument("--conversation", action="store_true", help="write whole conversations among the friends")
    gen.add_argument("--prompt", metavar="TEXT",
                     help="conversation opening: 'Name: text', or text the model gives someone")
    gen.add_argument("--turns", type=int, default=8, metavar="K", help="new turns per conversation (default 8)")
    gen.add_argument("--seed", type=int, help="random seed, for repeatable samples")
    gen.add_argument("--json", action="store_true", help="print one JSON object")

    ses = sub.add_parser("sessions", help="list, rename or delete a workspace's chat sessions",
                         description="The chat sessions saved in a workspace, most recently used first: name, "
                                     "the friend played, run, turns, branches, last used. The app opens any "
                                     "of them (the chat's ctrl+o, or s in the chat setup).")
    ses.add_argument("--workspace", "-w", required=True)
    ses.add_argument("--rename", nargs=2, metavar=("ID", "TITLE"), help="give session ID a name")
    ses.add_argument("--delete", metavar="ID", type=int, help="delete session ID and all its turns")
    ses.add_argument("--json", action="store_true", help="print one JSON list")

    ev = sub.add_parser("eval", help="how well a trained run knows each friend, measured on held-out chats",
                        description="Measure a run on the sessions it never trained on: loss and perplexity "
                                    "per speaker, whether it tells the friends' voices apart (speaker "
                                    "attribution), and how often what it writes copies a training message "
                                    "(verbatim rate). The figures are also saved in the run folder.")
    ev.add_argument("--workspace", "-w", required=True)
    ev.add_argument("--run", help="run name (default: the newest finished run, else the newest with a checkpoint)")
    ev.add_argument("--samples", type=int, default=200, metavar="N",
                    help="turns to sample for the verbatim rate (default 200; 0 skips sampling)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")

    demo = sub.add_parser(
        "demo",
        help="import the bundled sample, train a small model on it, then chat (offline)",
        description="The whole journey on the bundled sample chat of four fictional friends: import it, train "
        "scratch:tiny on it with the dashboard visible (about a minute on any machine: the run sizes itself to a "
        "time budget; no download), then chat as Maya. Re-running reuses the workspace and the trained model.",
    )
    demo.add_argument("--fresh", action="store_true", help="delete the demo workspace and start over")
    demo.add_argument("--steps", type=int, metavar="N",
                      help=f"at most N training steps (default: what fits in {format_duration(DEMO_BUDGET)})")
    demo.add_argument("--headless", action="store_true", help="import and train without opening the app")

    cfg = sub.add_parser("config", help="show the settings file's path, the example, or check a file")
    cfg.add_argument("--path", action="store_true", help="print only where the settings file is read from")
    cfg.add_argument("--example", action="store_true", help="print a commented example")
    return p


def _train_flags(parser: argparse.ArgumentParser) -> None:
    """The ``train`` flags, one per TrainConfig.OPTIONS entry: its dest is the setting's name, and a flag not
    given stays None (the settings file's value then holds)."""
    for name, option in TrainConfig.OPTIONS.items():
        kind = TrainConfig.reader(name)
        if kind is bool:
            parser.add_argument(option.flag, dest=name, action="store_true", default=None, help=option.help)
        else:
            parser.add_argument(option.flag, dest=name, type=kind, metavar=option.metavar,
                                choices=TrainConfig.CHOICES.get(name), help=option.help)


def main(argv: list[str] | None = None) -> int:
    """The ``friendsim-tui`` command. Whatever a subcommand prints goes through one rule that makes control
    characters visible (friendsim_tui.safe_text), and whatever goes wrong ends in one line on stderr."""
    from friendsim_tui.safe_text import inert_output

    try:
        with inert_output():
            args = _parser().parse_args(argv)
            try:
                return _main(args)
            except KeyboardInterrupt:
                print("friendsim-tui: interrupted", file=sys.stderr)
                return 130
            except BrokenPipeError:
                raise
            except Exception as exc:  # a bug or an unforeseen failure: one line, the details in a log
                return _unexpected(exc)
    except BrokenPipeError:  # `... | head`: the reader left; nothing more to say
        return _quiet_broken_pipe()


def _main(args) -> int:
    import os

    from friendsim_tui import paths

    os.umask(0o077)  # workspaces hold private conversations: everything we create is owner-only

    if args.data_dir:
        paths.set_data_dir(args.data_dir)
    from friendsim_tui.config import ConfigError, load_config

    try:
        config = load_config(Path(args.config) if args.config else None)
    except ConfigError as exc:
        print(f"friendsim-tui: {exc}", file=sys.stderr)
        return 2
    handler = _COMMANDS.get(args.command)
    if handler is None:
        return _run_app(config)
    return handler(args, config)


def _run_app(config, on_start=None) -> int:
    from friendsim_tui.safe_text import raw_output
    from friendsim_tui.tui.app import run_app

    with raw_output():  # Textual writes its own escape sequences
        return run_app(config, on_start=on_start)


def _unexpected(exc: BaseException) -> int:
    """One line for the person at the terminal; the traceback goes to a private log file they can look at."""
    from friendsim_tui import crash

    print(crash.report(exc), file=sys.stderr)
    return 1


def _quiet_broken_pipe() -> int:
    import os

    # Python would complain about the unflushed rest of stdout at exit: point stdout at nothing first.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 141  # as a process ended by SIGPIPE reports


def _fail(message: str, code: int = 1) -> int:
    print(f"friendsim-tui: {message}", file=sys.stderr)
    return code


def cmd_import(args, config) -> int:
    from friendsim_tui.importers.base import ChatImportError
    from friendsim_tui.paths import WorkspaceNameError, check_workspace_name
    from friendsim_tui.services import importing
    from friendsim_tui.store import StoreError

    try:
        check_workspace_name(args.workspace)
    except WorkspaceNameError as exc:
        return _fail(str(exc), 2)
    paths = [Path(p) for p in args.paths]
    progress = None if args.json or not sys.stderr.isatty() else _TtyProgress()
    try:
        if args.dry_run:
            pre = importing.preview(paths, progress)
            if pre.errors:
                return _fail(str(pre.errors[0]))
            out = {
                "workspace": args.workspace,
                "messages": pre.total_kept,
                "skipped": dict(pre.skipped),
                "speakers": {i.name: i.messages for i in pre.identities},
                "files": [{"path": r.path, "format": r.format, "read": r.read, "kept": r.kept} for r in pre.files],
            }
            print(json.dumps(out, ensure_ascii=False, indent=None if args.json else 2))
            return 0
        result = importing.import_paths(args.workspace, paths, progress=progress, on_wait=_say_waiting)
    except ChatImportError as exc:
        if progress:
            progress.clear()
        return _fail(f"{exc} — nothing was imported")
    except StoreError as exc:  # says itself that nothing was imported
        if progress:
            progress.clear()
        return _fail(str(exc))
    if progress:
        progress.clear()
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return 0
    print(f"Imported into {result.workspace}: {result.messages_added:,} new messages ({result.messages_total:,} in all)")
    for f in result.files:
        print(f"  {f.path}  [{f.format}]  read {f.read:,}  kept {f.kept:,}")
    if result.skipped:
        print("  skipped: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.skipped.items())))
    for name, n in result.speakers.most_common():
        print(f"  {name:<24} {n:>9,}")
    for w in result.warnings[:20]:
        print(f"  warning: {w}")
    if len(result.warnings) > 20:
        print(f"  ... and {len(result.warnings) - 20} more warnings")
    return 0


class _TtyProgress:
    """One progress line on a terminal's stderr, redrawn in place (our own ``\r``; the file name made inert)."""

    def __call__(self, index: int, count: int, path: str, done: int, total: int) -> None:
        from friendsim_tui.safe_text import inert, raw

        pct = 100 * done / total if total else 0
        err = raw(sys.stderr)
        err.write(f"\r[{index + 1}/{count}] {inert(Path(path).name, 40):<40} {pct:5.1f}%")
        err.flush()

    def clear(self) -> None:
        from friendsim_tui.safe_text import raw

        err = raw(sys.stderr)
        err.write("\r" + " " * 60 + "\r")
        err.flush()


def _say_waiting(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _column(text: str, width: int) -> str:
    """``text`` (made inert) padded to ``width`` terminal cells: an emoji or a CJK letter takes two."""
    from rich.cells import cell_len

    from friendsim_tui.safe_text import inert

    shown = inert(text)
    return shown + " " * max(0, width - cell_len(shown))


def cmd_workspaces(args, config) -> int:
    from friendsim_tui.services.workspaces import list_workspaces

    items = list_workspaces()
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
        return 0
    if not items:
        print("No workspaces yet. Import some chats: friendsim-tui import PATH --workspace NAME")
    for w in items:
        if "error" in w:
            print(f"{_column(w['name'], 24)} damaged: {w['error']}")
            continue
        print(f"{_column(w['name'], 24)} {w['messages']:>10,} messages  {w['speakers']:>4} speakers")
    return 0


def cmd_speakers(args, config) -> int:
    from friendsim_tui.paths import WorkspaceNameError
    from friendsim_tui.services import workspaces
    from friendsim_tui.store import StoreError

    ws = args.workspace
    try:
        for name in filter(None, [args.exclude, args.include, args.rename and args.rename[0]]):
            workspaces.find_speaker(ws, name)  # every name is checked before anything changes
        if args.rename:
            workspaces.rename_speaker(ws, args.rename[0], args.rename[1], on_wait=_say_waiting)
        if args.exclude:
            workspaces.set_excluded(ws, args.exclude, True, on_wait=_say_waiting)
        if args.include:
            workspaces.set_excluded(ws, args.include, False, on_wait=_say_waiting)
        speakers = workspaces.speakers(ws)
    except WorkspaceNameError as exc:
        return _fail(str(exc), 2)
    except StoreError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps([
            {"name": s.name, "messages": s.messages, "excluded": s.excluded, "aliases": list(s.aliases)}
            for s in speakers
        ], ensure_ascii=False))
        return 0
    for s in speakers:
        flag = "  (excluded)" if s.excluded else ""
        aliases = ", ".join(a for a in s.aliases if a != s.name)
        print(f"{_column(s.name, 24)} {s.messages:>9,}{flag}" + (f"   aka {aliases}" if aliases else ""))
    return 0


def cmd_dataset(args, config) -> int:
    from friendsim_tui import dataset
    from friendsim_tui.store import Store, StoreError

    if args.split and not args.text:
        return _fail("--split goes with --text", 2)
    if args.text and args.json:
        return _fail("choose one of --text and --json", 2)
    try:
        store = Store.for_workspace(args.workspace)
    except StoreError as exc:
        return _fail(str(exc))
    with store:
        ds = dataset.build(store, config.dataset)
        titles = {row[0]: row[2] for row in store.conversations()} if args.text else {}
    if args.text:
        for line in dataset.text_lines(ds, [args.split] if args.split else dataset.SPLITS, titles):
            print(line)
        return 0
    stats = ds.stats()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
        return 0
    print(f"{stats['sessions']:,} sessions ({stats['train_sessions']:,} train, {stats['eval_sessions']:,} eval), "
          f"{stats['messages']:,} messages")
    for name, s in stats["speakers"].items():
        print(f"  {_column(name, 24)} {s['messages']:>9,} msgs  avg {s['avg_chars']:.0f} chars")
    return 0


def cmd_config(args, config) -> int:
    from friendsim_tui import paths
    from friendsim_tui.config import example_config

    if args.example:
        sys.stdout.write(example_config())
        return 0
    source = config.source or paths.config_file()
    if args.path:
        print(source)
    else:
        print(f"{source}  {'(in use)' if Path(source).exists() else '(not created yet; defaults in use)'}")
    return 0


def cmd_train(args, config) -> int:
    import dataclasses

    from friendsim_tui.paths import WorkspaceNameError, check_workspace_name
    from friendsim_tui.runs import RunNameError, check_run_name
    from friendsim_tui.services import training

    if args.list_bases:
        from friendsim_tui.engine.bases import catalog

        for b in catalog(config.train.block_size):
            fits = "fits" if b["fits_full"] else ("LoRA fits" if b["fits_lora"] else "too big")
            print(f"{b['id']:<28} {b['params'] / 1e6:>7.0f}M  full {b['memory_full'] / 2**30:5.1f} GiB  "
                  f"LoRA {b['memory_lora'] / 2**30:5.1f} GiB  {fits:<9} {b['note']}")
        return 0
    if not args.workspace:
        return _fail("train: --workspace NAME is required", 2)
    try:
        check_workspace_name(args.workspace)
        if args.run is not None:
            check_run_name(args.run)
    except (WorkspaceNameError, RunNameError) as exc:
        return _fail(str(exc), 2)
    if args.resume and not args.run:
        return _fail("--resume needs --run NAME (see `friendsim-tui runs --workspace NAME`)", 2)
    from friendsim_tui.config import ConfigError

    try:
        cfg = training.read_train_config(Path(args.train_config)) if args.train_config else config.train
        given = {name: getattr(args, name) for name in TrainConfig.OPTIONS if getattr(args, name) is not None}
        cfg = dataclasses.replace(cfg, **given)
        cfg.validate("command line")
    except (ConfigError, training.TrainingFailed) as exc:
        return _fail(str(exc), 2)
    try:
        result = training.train_here(args.workspace, cfg, args.run, resume=args.resume, dataset_cfg=config.dataset)
    except training.TrainingFailed as exc:
        return _fail(str(exc))
    if result.status == "stopped":
        return training.EXIT_STOPPED
    if training.is_main_process():
        print(result.model_dir)
    return 0


def cmd_runs(args, config) -> int:
    from friendsim_tui.paths import WorkspaceNameError, check_workspace_name
    from friendsim_tui.services import training

    try:
        check_workspace_name(args.workspace)
    except WorkspaceNameError as exc:
        return _fail(str(exc), 2)
    if args.stop:
        try:
            training.request_stop(args.workspace, args.stop)
        except training.TrainingFailed as exc:
            return _fail(str(exc))
        print(f"asked run {args.stop!r} to stop")
        return 0
    runs = training.list_runs(args.workspace)
    if args.json:
        print(json.dumps(runs, ensure_ascii=False))
        return 0
    if not runs:
        print(f"No runs yet. Start one: friendsim-tui train --workspace {args.workspace!r}")
    for r in runs:
        loss = f"loss {r['loss']:.3f}" if r.get("loss") is not None else ""
        line = f"{r['name']:<32} {r['status']:<8} {r['step']:>7}/{r['max_steps'] or '?':<7} {r['base'] or '':<20} {loss}"
        if r.get("best_step") is not None and r.get("best_eval_loss") is not None:
            line += f"  best step {r['best_step']} (eval {r['best_eval_loss']:.3f})"
        if r["status"] in ("stopped", "failed"):
            line += f"  resumes from step {r['resume_step']}" + (f"; {r['error']}" if r.get("error") else "")
        print(line)
    return 0


SAID_BEFORE = "  (said before)"
"""After a sampled turn that copies a training message, in the text output."""


def _said(turn: Turn) -> dict:
    """A sampled turn for ``--json``: speaker, text, and whether it copies a training message."""
    return {"speaker": turn.speaker, "text": turn.text, "verbatim": turn.verbatim}


def cmd_generate(args, config) -> int:
    from friendsim_tui.services import chat

    n = config.chat.candidates if args.n is None else args.n
    if not 1 <= n <= 64:
        return _fail("generate: -n must be between 1 and 64", 2)
    if args.conversation and args.turns < 1:
        return _fail("generate: --turns must be at least 1", 2)
    if not args.conversation and not args.player:
        return _fail("generate: --as SPEAKER is required (or --conversation)", 2)
    if args.conversation and args.history:
        return _fail("generate: --history goes with --as; for --conversation use --prompt", 2)
    try:
        history = chat.read_history(args.history) if args.history else []
        choice = chat.find_run(args.workspace, args.run)
        speakers = chat.model_speakers(choice)  # names are checked before the (slow) model load
        player = chat.check_speaker(speakers, args.workspace, args.player) if args.player else None
        history = chat.check_history(speakers, args.workspace, history, args.history or "history")
        prompt, opening = chat.split_prompt(speakers, args.prompt, player) if args.prompt else ([], None)
        sampler = chat.load_sampler(choice)
        if args.conversation:
            convos, secs = chat.sample_conversations(sampler, prompt, args.turns, n, config.chat, opening, args.seed)
        else:
            cands, secs = chat.sample_candidates(sampler, history, player, n, config.chat, seed=args.seed)
    except chat.ChatError as exc:
        return _fail(str(exc))
    from friendsim_tui.safe_text import inert

    if args.conversation:
        if args.json:
            print(json.dumps({"run": choice.name, "conversations": [[_said(t) for t in c] for c in convos],
                              "sample_seconds": round(secs, 4)}, ensure_ascii=False))
            return 0
        for i, convo in enumerate(convos, 1):
            print(f"--- conversation {i}")
            for t in convo:
                print(f"{inert(t.speaker)}: {inert(t.text)}{SAID_BEFORE if t.verbatim else ''}")
        noun = "conversation" if len(convos) == 1 else "conversations"
        print(f"({len(convos)} {noun} from run {choice.name} in {secs:.2f}s)", file=sys.stderr)
        return 0
    if args.json:
        print(json.dumps({"run": choice.name, "candidates": [_said(c) for c in cands],
                          "sample_seconds": round(secs, 4), "dropped_turns": sampler.dropped_turns},
                         ensure_ascii=False))
        return 0
    if sampler.dropped_turns:
        print(f"(the {sampler.dropped_turns} oldest history turns were left out: the model's context holds "
              f"{sampler.context} tokens)", file=sys.stderr)
    for i, c in enumerate(cands, 1):
        print(f"{i}. {inert(c.speaker)}: {inert(c.text)}{SAID_BEFORE if c.verbatim else ''}")
    if len(cands) < n:
        print(f"(only {len(cands)} distinct candidates of {n})", file=sys.stderr)
    print(f"({len(cands)} candidates from run {choice.name} in {secs:.2f}s)", file=sys.stderr)
    return 0


def cmd_sessions(args, config) -> int:
    """``friendsim-tui sessions -w crew`` lists them; ``--rename 3 "karaoke plans"``, ``--delete 3``."""
    from datetime import datetime

    from friendsim_tui.paths import WorkspaceNameError
    from friendsim_tui.safe_text import inert
    from friendsim_tui.services import sessions
    from friendsim_tui.store import StoreError

    try:
        if args.rename:
            try:
                sid = int(args.rename[0])
            except ValueError:
                return _fail(f"sessions: --rename takes a session ID (a number), not {args.rename[0]!r}", 2)
            sessions.rename_session(args.workspace, sid, args.rename[1])
        if args.delete is not None:
            sessions.delete_session(args.workspace, args.delete)
        found = sessions.list_sessions(args.workspace)
    except WorkspaceNameError as exc:
        return _fail(str(exc), 2)
    except StoreError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps([sessions.session_json(s) for s in found], ensure_ascii=False))
        return 0
    if not found:
        print(f"No chat sessions in {args.workspace} yet: open a chat in the app (c on Home).")
        return 0
    print(f"{'ID':>4}  {'NAME':<34} {'AS':<14} {'RUN':<20} {'TURNS':>5} {'BRANCHES':>8}  LAST USED")
    for s in found:
        used = datetime.fromtimestamp(s.updated).strftime("%Y-%m-%d %H:%M")
        print(f"{s.id:>4}  {inert(sessions.session_name(s, 34), 34):<34} {inert(s.player, 14):<14} "
              f"{inert(s.run, 20):<20} {s.turns:>5} {s.branches:>8}  {used}")
    return 0


def cmd_eval(args, config) -> int:
    from friendsim_tui.services import evaluation

    if not 0 <= args.samples <= 10_000:
        return _fail("eval: --samples must be between 0 and 10000", 2)
    try:
        result = evaluation.evaluate(args.workspace, args.run, samples=args.samples, settings=config.chat)
    except evaluation.EvalFailed as exc:
        return _fail(str(exc))
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.figures, ensure_ascii=False))
        return 0
    for line in _eval_table(result.figures):
        print(line)
    return 0


def _eval_table(f: dict) -> list[str]:
    """The figures of ``eval`` as a person reads them: names cut to 16 characters, columns by terminal cells."""
    from rich.cells import cell_len

    from friendsim_tui.safe_text import inert

    def pct(x):
        return "-" if x is None else f"{100 * x:.1f}%"

    def num(x, spec=".3f"):
        return "-" if x is None else format(x, spec)

    lines = [f"run {inert(f['run'])} at step {f['step']}, evaluated in {f['seconds']:.1f}s",
             f"eval loss {num(f['eval_loss'])}   perplexity {num(f['perplexity'], '.2f')}"]
    scored = sum(n for row in f["confusion"].values() for n in row.values())
    if f["attribution_accuracy"] is not None:
        lines.append(f"speaker attribution {pct(f['attribution_accuracy'])} of {scored} held-out turns "
                     f"(always guessing the commonest speaker: {pct(f['attribution_baseline'])})")
    if f["samples"]:
        lines.append(f"verbatim {pct(f['verbatim_rate'])} of {f['samples']} sampled turns copy a training message "
                     f"or 8 words of one;  distinct-2 {num(f['distinct_2'])}")
    short = {n: inert(n, 16) for n in f["speakers"]}
    lines += ["", f"{'speaker':<16}  {'turns':>6}  {'loss':>6}  {'perplexity':>10}  {'attribution':>11}"]
    for n, s in f["speakers"].items():
        lines.append(f"{_column(short[n], 16)}  {s['turns']:>6}  {num(s['eval_loss']):>6}  "
                     f"{num(s['perplexity'], '.2f'):>10}  {pct(s['attribution']):>11}")
    if f["confusion"]:
        width = max(6, *(cell_len(x) for x in short.values()))
        lines += ["", "who spoke (rows) and whose voice the model heard (columns):",
                  " " * 16 + "".join("  " + " " * (width - cell_len(short[n])) + short[n] for n in short)]
        for n, row in f["confusion"].items():
            lines.append(_column(short[n], 16) + "".join(f"  {row.get(m, 0):>{width}}" for m in short))
    return lines


DEMO_RUN = "demo"
DEMO_BASE = "scratch:tiny"
DEMO_BUDGET = 45.0
"""Seconds of training: with the sample's import, preparation and the held-out figures at the end, about a
minute on any machine, however fast its steps (it ends at its best step; early stop may end it sooner)."""
DEMO_PLAYER = "Maya"
DEMO_OPENING = [Turn("Maya", "omg who's up for karaoke friday?? i need to sing something dramatic")]


def cmd_demo(args, config) -> int:
    import shutil

    from friendsim_tui import paths, runs
    from friendsim_tui.importers.base import ChatImportError
    from friendsim_tui.demo_chat import SAMPLE_WORKSPACE, sample_path
    from friendsim_tui.services import importing, training
    from friendsim_tui.store.db import DB_NAME

    ws = SAMPLE_WORKSPACE
    folder = paths.workspace_dir(ws)
    if args.fresh and folder.exists():
        status = training.run_status(ws, DEMO_RUN)
        if status["status"] == "running":
            return _fail("the demo run is still training; stop it first (dashboard key s) or wait for it")
        shutil.rmtree(folder)
        print(f"Removed the demo workspace {folder}", file=sys.stderr)
    if not (folder / DB_NAME).exists():
        try:
            result = importing.import_paths(ws, [sample_path()])
        except ChatImportError as exc:
            return _fail(str(exc))
        print(f"Imported the sample chat into workspace {ws}: {result.messages_added:,} messages from "
              f"{len(result.speakers)} friends", file=sys.stderr)
    status = training.run_status(ws, DEMO_RUN)
    process = None
    if not status["model_ready"] and status["status"] != "running":
        from dataclasses import replace

        resume = (runs.run_dir(ws, DEMO_RUN) / runs.RUN_FILE).exists()
        cfg = replace(config.train, base=DEMO_BASE, max_steps=args.steps or 0, epochs=0.0, time_budget=DEMO_BUDGET,
                      eval_steps=0, sample_steps=0)  # evals and samples as the budget affords; a resume keeps its own
        if args.headless:
            try:
                result = training.train_here(ws, cfg, DEMO_RUN, resume=resume, dataset_cfg=config.dataset)
            except training.TrainingFailed as exc:
                return _fail(str(exc))
            if result.status == "stopped":
                return training.EXIT_STOPPED
        else:
            _run, process = training.start_run(ws, cfg, run=DEMO_RUN, resume=resume, config=config.source)
            print(f"Training {DEMO_BASE} on the sample "
                  f"({'resuming' if resume else f'for about {format_duration(DEMO_BUDGET)}'})…", file=sys.stderr)
    if args.headless:
        if status["status"] == "running":
            return _fail("the demo run is training in another process; wait for it, or watch it with "
                         "`friendsim-tui demo`")
        print(f"Demo model ready: {status['path']}")
        return 0
    def start(app) -> None:
        from friendsim_tui.tui.screens.demo import DemoDashboard, open_demo_chat

        app.workspace = ws
        if status["model_ready"]:
            open_demo_chat(app, ws, DEMO_RUN, DEMO_PLAYER, DEMO_OPENING)
        else:  # training now (ours, or one already running): the dashboard hands over to the chat when done
            app.push_screen(DemoDashboard(training.run_dir(ws, DEMO_RUN), workspace=ws, player=DEMO_PLAYER,
                                          opening=DEMO_OPENING, process=process))

    return _run_app(config, on_start=start)


_COMMANDS = {
    "import": cmd_import,
    "workspaces": cmd_workspaces,
    "speakers": cmd_speakers,
    "dataset": cmd_dataset,
    "config": cmd_config,
    "train": cmd_train,
    "runs": cmd_runs,
    "generate": cmd_generate,
    "sessions": cmd_sessions,
    "demo": cmd_demo,
    "eval": cmd_eval,
}
