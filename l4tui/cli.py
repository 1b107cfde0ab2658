"""The `l4tui` command. With no subcommand it opens the app; the subcommands work without it."""

import argparse
import gc
import os
import sys
import time
from pathlib import Path

from l4tui import __version__


PYTHON_HELP = ("the Python environment names resolve in: a virtualenv or conda folder, or its python "
               "(default: $VIRTUAL_ENV, $CONDA_PREFIX, the project's .venv, else l4tui's own)")


def build_parser() -> argparse.ArgumentParser:
    # Here, not at the top: `l4tui` alone opens the app without them (its first frame waits for every import).
    from l4tui.presets import PRESETS
    from l4tui.train.options import RECIPES, add_train_options, int_list

    parser = argparse.ArgumentParser(
        prog="l4tui",
        description="Explore, train and understand the models of fast.ai's lesson 4 in the terminal. "
                    "With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"l4tui {__version__}")
    parser.add_argument("--runs", metavar="DIR", help="the runs folder (default ./runs, or $L4TUI_RUNS)")
    parser.add_argument("--python", metavar="PATH", help=PYTHON_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train", help="start a training run (collab, tabular, lm, classifier)",
        description="Train one of the lesson's recipes in a run of its own (./runs/<id>/). Options left out take "
                    "the recipe's defaults, the lesson's.")
    train.add_argument("family", choices=list(RECIPES), help="which recipe")
    add_train_options(train)  # one per option of l4tui/train/options.py
    train.add_argument("--gpus", type=int, default=1, metavar="N",
                       help="train over N processes with DistributedDataParallel through torchrun "
                            "(one per GPU; on a CPU-only machine, N CPU processes)")
    train.add_argument("--lr-find", action="store_true",
                       help="run the learning-rate finder instead of training; prints suggested_lr=...")
    train.add_argument("--detach", action="store_true",
                       help="start the run and return at once instead of following it")

    runs = commands.add_parser("runs", help="list, show, follow, stop and resume runs")
    runs_commands = runs.add_subparsers(dest="runs_command", metavar="ACTION")
    runs_commands.add_parser("list", help="list runs with their state (the default)")
    for name, text in (("show", "a run's config, state and metrics"), ("follow", "follow a run's progress"),
                       ("tail", "print a run's events as they are written"), ("stop", "stop a running run"),
                       ("resume", "continue a stopped, failed or died run from its last checkpoint")):
        action = runs_commands.add_parser(name, help=text)
        action.add_argument("run_id", help="a run id, or a unique prefix of one")
        if name == "show":
            action.add_argument("--json", action="store_true", help="as JSON")
        if name == "resume":
            action.add_argument("--from", dest="checkpoint", metavar="FILE",
                                help="resume from this file of the run's checkpoints folder (best.pt, "
                                     "epoch-003.pt) instead of last.pt; the epochs after it train again")
    export = runs_commands.add_parser("export", help="a run's events as CSV (and TensorBoard files)")
    export.add_argument("run_id", help="a run id, or a unique prefix of one")
    export.add_argument("--out", help="where to write (default: the run's export/ folder)")
    export.add_argument("--tensorboard", action="store_true", help="also TensorBoard event files")

    summary = commands.add_parser(
        "summary", help="print a model's layers, output shapes and parameters",
        description="MODEL is one of lm, classifier, tabular, collab, collab-nn, or a model of your own "
                    "in models/ (FILE.CLASS). Sizes default to the lesson's datasets.")
    summary.add_argument("model", help="lm, classifier, tabular, collab, collab-nn, or FILE.CLASS")
    summary.add_argument("--preset", choices=list(PRESETS), default="lesson",
                         help="lesson: fastai's sizes; small: trains in seconds on a CPU")
    summary.add_argument("--vocab-size", type=int, help="tokens in the vocab (lm, classifier; default 60000)")
    summary.add_argument("--n-classes", type=int, help="classes (classifier; default 2)")
    summary.add_argument("--n-users", type=int, help="users, #na# included (collab; default 944)")
    summary.add_argument("--n-items", type=int, help="items, #na# included (collab; default 1683)")
    summary.add_argument("--n-factors", type=int, help="latent factors (collab; lesson 50)")
    summary.add_argument("--cardinalities", type=int_list, metavar="N,N,...",
                         help="categories per categorical column, #na# included (tabular; default adult's)")
    summary.add_argument("--n-cont", type=int, help="continuous columns (tabular; default 3)")
    summary.add_argument("--n-out", type=int, help="outputs (tabular; default 2)")
    summary.add_argument("--layers", type=int_list, metavar="N,N,...",
                         help="hidden layer sizes (tabular 200,100; collab-nn 100,50; classifier head 50)")

    predict = commands.add_parser(
        "predict", help="what a trained run predicts for a review, a row, a user and movie, or a text to continue",
        description="RUN is a run id (its best.pt, else last.pt) or a checkpoint file. INPUT: a review (classifier); "
                    "a row as column=value pairs, age=49,workclass=Private (tabular; columns left out are filled "
                    "as in training); USER,MOVIE with the movie's id or title, any case (collab); the start of a "
                    "text (language model, continued for --words). With --csv, one input per row of the file, "
                    "and a CSV out with a column per class probability (an input that fails says why in its "
                    "error column).")
    predict.add_argument("run", metavar="RUN", help="a run id (or a unique prefix) or a .pt checkpoint file")
    predict.add_argument("input", nargs="?", metavar="INPUT", help="the review, row, USER,MOVIE or text")
    predict.add_argument("--csv", metavar="FILE", help="inputs from a CSV: a text column; the table's columns; "
                                                       "user and item (or movie, title)")
    predict.add_argument("--words", type=int, default=20, metavar="N", help="words to add (language model; 20)")
    predict.add_argument("--temperature", type=float, default=0.75,
                         help="language model: below 1 safer, above 1 wilder, 0 always the likeliest (0.75)")
    predict.add_argument("--seed", type=int, help="language model: the same seed gives the same text")

    data = commands.add_parser("data", help="list, download and look at datasets")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    data_commands.add_parser("list", help="the bundled and downloadable datasets, and where they live")
    show = data_commands.add_parser(
        "show", help="what a dataset holds: format, rows, columns, labels, users and items, missing values")
    show.add_argument("dataset", nargs="?", default="bundled-ml",
                      help="a dataset name (see `data list`) or a file or folder in one of the lesson's formats "
                           "(default: bundled-ml)")
    show.add_argument("--y", metavar="COLUMN", help="the label column of a CSV of your own")
    get = data_commands.add_parser("get", help="download one of the lesson's datasets into the cache folder")
    get.add_argument("name", help="imdb, imdb_sample, adult_sample, ml_sample or ml-100k")
    tokenize = commands.add_parser(
        "tokenize", help="print the tokens of texts, as fastai's default tokenizer makes them",
        description="Reads texts (one per line, from FILE or standard input; or a column of a CSV) and prints "
                    "each text's tokens separated by spaces, one text per line. Whitespace tokens print as \\n, \\t.")
    tokenize.add_argument("file", nargs="?", help="a text file, one text per line (default: standard input)")
    tokenize.add_argument("--csv", metavar="FILE", help="read the texts from a column of this CSV instead")
    tokenize.add_argument("--column", default="text", help="the CSV's text column (default: text)")
    tokenize.add_argument("--data", metavar="DATASET",
                          help="tokenize a whole dataset (a name such as imdb, or a path) into the corpus cache "
                               "the ULMFiT runs read, and print its figures instead of tokens")

    tags = commands.add_parser(
        "tags", help="write a ctags file (vim's :tag, emacs) of the definitions in PATHS",
        description="Indexes classes, functions, methods and module variables, and writes them in the ctags "
                    "format vim and emacs read (sorted, with kind, line, scope and signature fields).")
    tags.add_argument("paths", nargs="*", metavar="PATH",
                      help="files or folders (default: ./models when there is one, else .)")
    tags.add_argument("-o", "--output", metavar="FILE", help="where to write (default ./tags; - for stdout)")
    for name, text in (("goto", "print where the name at PATH:LINE:COL is defined, as path:line:col lines"),
                       ("refs", "print the references of the name at PATH:LINE:COL, as path:line:col: text")):
        place = commands.add_parser(name, help=text, description=text + " (LINE and COL count from 1).")
        place.add_argument("place", metavar="PATH:LINE:COL")
        place.add_argument("--python", metavar="PATH", default=argparse.SUPPRESS, help=PYTHON_HELP)
    tour = commands.add_parser(
        "tour", help="the lesson as a guided tour across the app's panes, from where you left it (docs/tour.md)",
        description="Opens the app on lesson 4's guided tour: each step shows a short text and opens its place "
                    "(a line of a model, a lesson screen, a model's tab, a tiny run). Right/Enter: next, "
                    "Left: back, Esc: leave (F6 comes back), r: start over.")
    tour.add_argument("--steps", metavar="FILE", help="a steps file of your own (default: the shipped steps.toml)")
    tour.add_argument("--restart", action="store_true", help="start from the first step")
    tour.add_argument("--list", action="store_true", help="print the steps and where each leads, then exit")
    serve = commands.add_parser(
        "serve", help="serve the app as a web page: each browser tab gets its own app (docs/serve.md)",
        description="Serves the app with textual-serve: each browser tab that opens the page gets an l4tui of its "
                    "own, in this folder, on the same runs folder. Binds to 127.0.0.1: reach it from another "
                    "computer through an SSH tunnel (ssh -L 8000:127.0.0.1:8000 you@this-box).")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1, this machine only; 0.0.0.0: every "
                            "interface, which lets anyone who reaches the port use the app)")
    serve.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    serve.add_argument("--url", metavar="URL",
                       help="the address browsers use to reach the server, when not http://HOST:PORT (a proxy)")
    return parser


COMMANDS = ("train", "runs", "summary", "predict", "data", "tokenize", "tags", "goto", "refs", "tour", "serve")


def lone_place(argv: list[str]) -> str | None:
    """The one argument of `l4tui PLACE` (a file, `FILE:LINE`, a folder): neither an option nor a
    command; None for anything else."""
    if len(argv) != 1 or argv[0].startswith("-") or argv[0] in COMMANDS:
        return None
    return argv[0]


def opens_a_file(argv: list[str]) -> bool:
    """`l4tui PATH[:LINE]`: a first argument that is no command and names an existing file."""
    if lone_place(argv) is None:
        return False
    from l4tui.code.location import parse_place

    try:
        return parse_place(argv[0]).path.is_file()
    except ValueError:
        return False


def split_python(argv: list[str]) -> tuple[str | None, list[str]]:
    """`--python PATH` (or `--python=PATH`) and the rest, wherever it stands: `l4tui --python ENV
    main.py:5` and `l4tui main.py:5 --python ENV` both open the file with ENV. (A command's own
    arguments go to its parser whole: this split is for the app's forms.)"""
    for index, arg in enumerate(argv):
        if arg == "--python" and index + 1 < len(argv):
            return argv[index + 1], argv[:index] + argv[index + 2:]
        if arg.startswith("--python="):
            return arg.partition("=")[2], argv[:index] + argv[index + 1:]
    return None, argv


def place_problem(argv: list[str]) -> str | None:
    """Why `l4tui PLACE` can't open what it names, when the one argument reads as a file to open
    (a path, `FILE:LINE`) rather than a mistyped command: argparse would say "invalid choice"."""
    place = lone_place(argv)
    if place is None or not any(c in place for c in "/.:"):
        return None
    from l4tui.code.location import parse_place

    try:
        path = parse_place(place).path
    except ValueError as error:
        return str(error)
    if not path.exists():
        return f"{path}: no such file or folder (l4tui FILE[:LINE[:COL]] opens a file; l4tui --help lists the commands)"
    return f"{path} is not a regular file or a folder"


def opens_a_folder(argv: list[str]) -> bool:
    """`l4tui FOLDER`: a first argument that is no command and names a folder (its project opens)."""
    return lone_place(argv) is not None and os.path.isdir(argv[0])


def launch_app(**options) -> int:
    """The app in this terminal, with `options` for L4App; its exit status.

    The garbage collector is held off from here to the first frame (L4App.on_ready lets it go):
    start-up makes a few hundred thousand objects that live as long as the app (modules,
    classes, styles), and collecting while they are made frees nothing and cost ~15 ms of the
    first frame (bench/startup.py). If the app ends before its first frame, it is let go here."""
    gc.disable()
    try:
        from l4tui.ui.app import L4App, run_app

        return run_app(L4App(**options))
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    python, rest = split_python(argv)
    if not rest:  # `l4tui` alone: the app, without building the parser of every command first
        from l4tui.paths import runs_dir

        return launch_app(runs_dir=runs_dir(), python=python)
    if opens_a_folder(rest):
        from l4tui.paths import runs_dir, workspace_root

        return launch_app(runs_dir=runs_dir(), workspace=workspace_root(Path(rest[0])), python=python)
    if opens_a_file(rest):
        from l4tui.code.location import parse_place
        from l4tui.paths import runs_dir, workspace_root

        place = parse_place(rest[0])  # the workspace is that file's project, wherever l4tui was started
        return launch_app(runs_dir=runs_dir(), workspace=workspace_root(place.path), open_at=place, python=python)
    problem = place_problem(rest)
    if problem:
        print(f"l4tui: error: {problem}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    from l4tui.paths import runs_dir

    # Not resolved: a link loop in the path is reported as the runs folder's problem, not a traceback.
    runs = Path(os.path.abspath(args.runs)) if args.runs else runs_dir()
    try:
        if args.command is None:
            return launch_app(runs_dir=runs, python=args.python)
        if args.command == "train":
            return cmd_train(args, runs)
        if args.command == "runs":
            return cmd_runs(args, runs)
        if args.command == "summary":
            return cmd_summary(args)
        if args.command == "predict":
            return cmd_predict(args, runs)
        if args.command == "data":
            return cmd_data(args)
        if args.command == "tokenize":
            return cmd_tokenize(args)
        if args.command == "tags":
            from l4tui.code.tags import tags_main

            return tags_main(args.paths, args.output)
        if args.command in ("goto", "refs"):
            return cmd_goto(args)
        if args.command == "tour":
            return cmd_tour(args, runs)
        if args.command == "serve":
            from l4tui.serve import serve

            return serve(args.host, args.port, runs=Path(args.runs).resolve() if args.runs else None,
                         python=args.python, url=args.url)
    except (ValueError, FileNotFoundError) as error:
        # Bad input (a malformed ratings file, a bad option): one clear line, no traceback.
        print(f"l4tui: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`l4tui tokenize ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0


def cmd_tour(args, runs: Path) -> int:
    """`l4tui tour`: the steps checked first (a bad file is one line here, not in the app), then the app."""
    from l4tui.tour.steps import load_steps

    steps_path = Path(os.path.abspath(args.steps)) if args.steps else None
    steps = load_steps(steps_path)  # StepsError is a ValueError: main prints its one line
    if args.list:
        for number, step in enumerate(steps, 1):
            print(f"{number:2}. {step.title} · {step.where()}")
        return 0
    return launch_app(runs_dir=runs, python=args.python, tour={"steps": steps_path, "restart": args.restart})


def cmd_train(args, runs: Path) -> int:
    from l4tui.train.launcher import start_run

    from l4tui.train.options import config_from_args

    config = config_from_args(args.family, args)
    if "data" in config:
        from l4tui.data.sources import detect_format, resolve

        path = resolve(config["data"])  # check it now, so a bad path is reported here, not in the run's log
        detect_format(path)
        config["data"] = str(path)
    if config.get("encoder"):
        from l4tui.runs.checkpoints import find_checkpoint

        # A run id stays one (the run finds it beside itself); a .pt file becomes an absolute path.
        _, config["encoder"] = find_checkpoint(config["encoder"], runs)
    if config.get("pretrained"):
        from l4tui.train.transfer import config_name

        config["pretrained"] = config_name(config["pretrained"], runs)  # wt103 stays wt103
    check_batch_size(args.family, config)
    run_dir = start_run(args.family, config, runs, mode="lr_find" if args.lr_find else "train",
                        processes=args.gpus)
    print(f"started run {run_dir.name} in {run_dir}")
    if args.detach:
        print(f"follow it with: l4tui runs follow {run_dir.name}")
        return 0
    return follow_run(run_dir)


def check_batch_size(family: str, config: dict) -> None:
    """The launch form's batch-size check (options.batch_size_problem), before the run starts:
    a ValueError, one line, when the batch is larger than the data's training items."""
    from l4tui.train.launch_form import count_training_items
    from l4tui.train.options import BY_NAME, batch_size_problem

    option = BY_NAME["bs"]
    bs = config.get("bs", option.defaults.get(family))
    data = config.get("data", BY_NAME["data"].defaults.get(family))
    settings = {k: v for k, v in config.items() if k not in ("data", "bs")}
    items = count_training_items(family, data, settings)
    problem = batch_size_problem(bs, items)
    if problem:
        raise ValueError(f"{option.cli_flag} {bs}: {problem}; give {option.cli_flag} {items} or less")


def follow_run(run_dir: Path, poll_s: float = 0.2) -> int:
    """Print a run's progress until it ends. Ctrl-C stops following; the run goes on."""
    from l4tui.runs.events import EventReader
    from l4tui.runs.progress import Progress, format_metrics, format_seconds, preparing_text
    from l4tui.runs.store import read_run

    reader, progress = EventReader(run_dir), Progress()
    is_tty = sys.stdout.isatty()
    epochs_printed, pretrained_printed = 0, False
    try:
        while True:
            progress.update(reader.read_new())
            if progress.pretrained and not pretrained_printed:  # the transfer, once, before the epochs
                print(("\r\033[K" if is_tty else "") + progress.pretrained)
                pretrained_printed = True
            if reader.problem:
                print(f"\nl4tui: error: run {run_dir.name} is invalid: {reader.problem}", file=sys.stderr)
                return 1
            epochs_printed = min(epochs_printed, len(progress.epoch_rows))  # a resume rewound the history
            for row in progress.epoch_rows[epochs_printed:]:
                if is_tty:
                    print("\r\033[K", end="")
                print(f"epoch {row['epoch'] + 1}/{row.get('epochs', '?')}  "
                      + format_metrics({k: row[k] for k in ("train_loss", "valid_loss", "valid_rmse", "accuracy", "perplexity")
                                                 if k in row}))
                epochs_printed += 1
            if progress.end:
                break
            if is_tty and progress.preparing and not progress.started_at:
                print(f"\r\033[K{preparing_text(progress)} ...", end="", flush=True)
            elif is_tty:
                width = 30
                filled = int(progress.fraction * width)
                print(f"\r[{'#' * filled}{'-' * (width - filled)}] {progress.fraction:4.0%}  "
                      f"epoch {progress.epoch + 1}/{progress.epochs or '?'}  "
                      f"ETA {format_seconds(progress.eta_seconds())}", end="", flush=True)
            info = read_run(run_dir)
            if info.state == "died":
                progress.update(reader.read_new())
                if progress.end:
                    break
                print(f"\nrun {run_dir.name} died without finishing; see {run_dir / 'stderr.log'}")
                return 1
            time.sleep(poll_s)
    except KeyboardInterrupt:
        print(f"\nStopped following. The run goes on; `l4tui runs` shows it, "
              f"`l4tui runs stop {run_dir.name}` stops it.")
        return 130
    end = progress.end
    if end.get("state") == "failed":
        print(f"run {run_dir.name} failed: {end.get('error')}  (traceback in {run_dir / 'stderr.log'})")
        return 1
    if end.get("state") == "stopped":
        print(f"run {run_dir.name} was stopped")
        return 0
    metrics = dict(end.get("metrics") or {})
    first = {k: metrics.pop(k) for k in ("suggested_lr", "valid_rmse", "valid_loss", "train_loss") if k in metrics}
    print(format_metrics({**first, **metrics}))
    return 0


def cmd_runs(args, runs: Path) -> int:
    from l4tui.textcut import clip
    from l4tui.runs.store import find_run, list_runs, read_run, runs_dir_problem, stop_run

    problem = runs_dir_problem(runs)
    if problem:
        raise ValueError(problem)
    if args.runs_command not in (None, "list"):
        run_dir = find_run(runs, args.run_id)
        if run_dir is None:
            print(f"l4tui: error: no run {clip(repr(args.run_id), 80)} in {runs}", file=sys.stderr)
            return 2
        info = read_run(run_dir)
        if info.state == "invalid":  # a bad run folder: say why in one line, act on nothing
            if args.runs_command == "show" and args.json:
                import json

                print(json.dumps(run_summary(info), indent=2, default=str))
            print(f"l4tui: error: run {info.id} is invalid: {info.error}", file=sys.stderr)
            return 1
        if args.runs_command == "follow":
            return follow_run(run_dir)
        if args.runs_command == "tail":
            return tail_run(run_dir)
        if args.runs_command == "show":
            return show_run(info, args.json)
        if args.runs_command == "export":
            from l4tui.runs.export import export_csv, export_tensorboard

            for path in export_csv(run_dir, args.out and Path(args.out)):
                print(f"wrote {path}")
            if args.tensorboard:
                print(f"wrote {export_tensorboard(run_dir, args.out and Path(args.out) / 'tensorboard')}")
            return 0
        if args.runs_command == "resume":
            from l4tui.train.launcher import resume_run

            checkpoint = resume_run(run_dir, args.checkpoint)
            where = f" from {checkpoint.name}" if args.checkpoint else ""
            print(f"resumed run {run_dir.name}{where}; follow it with: l4tui runs follow {run_dir.name}")
            return 0
        if stop_run(run_dir):
            print(f"asked run {run_dir.name} to stop")
            return 0
        print(f"run {run_dir.name} is not running", file=sys.stderr)
        return 1
    from l4tui.runs.progress import best_and_last, format_seconds

    infos = list_runs(runs)
    if not infos:
        print(f"no runs in {runs}")
        return 0
    # The same state, time and figures as the app's runs list (l4tui.runs.store, progress.py).
    print(f"{'RUN':<34} {'STATE':<9} {'EPOCH':>5} {'TIME':>8}  METRIC")
    for info in infos:
        epoch = "" if info.epoch is None else f"{info.epoch + 1}/{info.epochs or '?'}"
        metric_text = best_and_last(info.best, info.last)
        if info.state in ("failed", "invalid") and info.error:
            metric_text = info.error
        print(f"{info.id:<34} {info.state:<9} {epoch:>5} {format_seconds(info.duration):>8}  {metric_text}")
    return 0


def run_summary(info) -> dict:
    return {"id": info.id, "family": info.family, "state": info.state, "error": info.error,
            "epoch": None if info.epoch is None else info.epoch + 1, "epochs": info.epochs,
            "started": info.started, "ended": info.ended, "duration_s": round(info.duration, 3),
            "config": info.config, "metrics": info.metrics, "run_dir": str(info.run_dir)}


def show_run(info, as_json: bool) -> int:
    import json

    summary = run_summary(info)
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    from l4tui.runs.progress import format_metrics

    for key in ("id", "family", "state", "error", "epoch", "epochs", "duration_s", "run_dir"):
        if summary[key] is not None:
            print(f"{key:<11} {summary[key]}")
    print(f"{'config':<11} " + " ".join(f"{k}={v}" for k, v in summary["config"].items()))
    print(f"{'metrics':<11} {format_metrics(summary['metrics'])}")
    progress = _progress_of(info.run_dir)
    if progress is not None and progress.threads:
        print(f"{'threads':<11} {progress.threads}")
    if progress is not None and progress.pretrained:
        print(f"{'transfer':<11} {progress.pretrained}")
    return 0


def _progress_of(run_dir: Path):
    """The run's events folded (the start event's threads and pretrained figures); None when unreadable."""
    from l4tui.runs.events import EventReader
    from l4tui.runs.progress import Progress

    progress = Progress()
    try:
        progress.update(EventReader(Path(run_dir)).read_new())
    except (OSError, ValueError):
        return None
    return progress


def tail_run(run_dir: Path, poll_s: float = 0.25) -> int:
    """Print each event of a run as it is written, until the run ends (Ctrl-C stops tailing)."""
    from l4tui.runs.events import EventReader
    from l4tui.runs.progress import format_metrics
    from l4tui.runs.store import read_run

    reader = EventReader(run_dir)
    try:
        while True:
            ended = False
            events = reader.read_new()
            if reader.problem:
                print(f"l4tui: error: run {run_dir.name} is invalid: {reader.problem}", file=sys.stderr)
                return 1
            for event in events:
                stamp = time.strftime("%H:%M:%S", time.localtime(event.get("t", 0)))
                fields = {k: v for k, v in event.items() if k not in ("t", "type", "traceback", "metrics")}
                print(f"{stamp} {event.get('type', '?'):<6} {format_metrics(fields)} "
                      f"{format_metrics(event.get('metrics') or {})}".rstrip(), flush=True)
                ended = ended or event.get("type") == "end"
            if ended or read_run(run_dir).state in ("died", "invalid"):
                return 0
            time.sleep(poll_s)
    except KeyboardInterrupt:
        return 130


def cmd_summary(args) -> int:
    from l4tui.inspect.catalog import Sizes, build_model, find_model, with_sizes
    from l4tui.inspect.summary import summarize, summary_lines

    sizes = with_sizes(Sizes(), preset=args.preset, vocab_size=args.vocab_size, n_classes=args.n_classes,
                       n_users=args.n_users, n_items=args.n_items, n_factors=args.n_factors,
                       cardinalities=args.cardinalities, n_cont=args.n_cont, n_out=args.n_out,
                       layers=args.layers)
    entry = find_model(args.model)
    try:
        built = build_model(entry, sizes)
        summary = summarize(built.model, built.example)
    except ValueError:
        raise
    except Exception as error:  # a user's model that can't be built or run: say why, no traceback
        raise ValueError(f"could not build {entry.name}: {type(error).__name__}: {error}") from None
    from l4tui.inspect.parameters import layer_groups_of

    print("\n".join(summary_lines(summary, groups=layer_groups_of(built.model))))
    return 0


def cmd_predict(args, runs: Path) -> int:
    """One input: the prediction's lines; --csv: a CSV out, one line per input (an input that
    can't be predicted gets its error in the error column, the others go on)."""
    import csv

    from l4tui.inspect.predict import csv_header, csv_row, load_predictor, predict, read_inputs_csv
    from l4tui.inspect.subject import InputError

    if (args.input is None) == (args.csv is None):
        raise ValueError("give one INPUT, or --csv FILE (l4tui predict --help says what each run takes)")
    subject = load_predictor(args.run, runs)
    settings = dict(n_words=args.words, temperature=args.temperature, seed=args.seed)
    if args.input is not None:
        prediction = predict(subject, args.input, **settings)
        for note in prediction.notes:
            print(f"note: {note}", file=sys.stderr)
        print("\n".join(prediction.lines()))
        return 0
    notes = []
    values = read_inputs_csv(args.csv, subject, notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    writer = csv.writer(sys.stdout)
    writer.writerow(csv_header(subject, values))
    failed = 0
    for n, value in enumerate(values, start=2):  # line 1 is the header
        try:
            prediction = predict(subject, value, **settings)
        except InputError as error:
            failed += 1
            writer.writerow(csv_row(subject, value, None, str(error)))
            continue
        for note in prediction.notes:
            print(f"note: line {n}: {note}", file=sys.stderr)
        writer.writerow(csv_row(subject, value, prediction))
    if failed:
        print(f"l4tui: {failed} of {len(values)} inputs could not be predicted (see the error column)",
              file=sys.stderr)
    return 1 if failed and failed == len(values) else 0


def cmd_data(args) -> int:
    from l4tui.data.describe import describe
    from l4tui.data.sources import list_datasets

    if args.data_command == "list":
        for line in list_datasets():
            print(line)
        return 0
    if args.data_command == "get":
        from l4tui.data.download import DownloadError, get_dataset, text_progress_bar
        from l4tui.data.registry import UnknownDatasetError

        try:
            folder = get_dataset(args.name, progress=text_progress_bar(label=args.name), report=print)
        except (DownloadError, UnknownDatasetError) as error:
            print(f"l4tui: error: {error}", file=sys.stderr)
            return 1
        print(f"{args.name} is in {folder}")
        return 0
    print("\n".join(describe(args.dataset, y_name=args.y)))
    return 0


def cmd_tokenize(args) -> int:
    from l4tui.data.tokenizer import tokenize_many

    if args.data:
        return tokenize_dataset(args.data)
    if args.csv:
        from l4tui.data.texts import load_texts_csv

        texts = load_texts_csv(args.csv, text_col=args.column).texts
    elif args.file:
        from l4tui.data.errors import DataError, sniff_text_file

        sniff_text_file(args.file, "a text file, one text per line")
        try:
            texts = Path(args.file).read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise DataError(args.file, f"is not UTF-8 (byte {error.start})", "convert it to UTF-8") from None
    else:
        texts = sys.stdin.read().splitlines()
    escapes = str.maketrans({"\n": "\\n", "\t": "\\t", "\r": "\\r"})
    for tokens in tokenize_many(texts, progress=tokenizing_line(sys.stderr)):
        print(" ".join(token.translate(escapes) for token in tokens))
    return 0


def tokenizing_line(stream, every_s: float = 0.25):
    """A progress line for tokenizing on `stream` (stderr), redrawn in place; None (no line)
    when it is not a terminal, so that piped output and logs stay clean."""
    if not stream.isatty():
        return None
    last = [0.0]

    def progress(done: int, total: int, tokens: int | None = None) -> None:
        if total < 1_000_000:  # under a second or so: no line
            return
        now = time.monotonic()
        if done < total and now - last[0] < every_s:
            return
        last[0] = now
        end = "\n" if done >= total else ""
        made = f", {tokens:,} tokens" if tokens is not None else ""
        print(f"\r\033[Ktokenizing {done / total:4.0%} of {total:,} characters{made}", end=end, file=stream,
              flush=True)
    return progress


def tokenize_dataset(name: str) -> int:
    """`l4tui tokenize --data NAME`: the dataset's corpus made (or found) in the cache, as the
    language model and classifier runs make it, and its figures."""
    from l4tui.data.corpus import tokenized_corpus
    from l4tui.data.texts import open_texts

    started = time.monotonic()
    data = open_texts(name)
    loaded = time.monotonic()
    corpus = tokenized_corpus(data.texts, progress=tokenizing_line(sys.stderr))
    took = time.monotonic() - loaded
    print(f"{data.source}: {len(data):,} texts read in {loaded - started:.1f} s")
    how = "read from the cache" if corpus.cache_hit else "tokenized"
    rate = f" ({corpus.n_tokens / took:,.0f} tokens/s)" if not corpus.cache_hit and took > 0 else ""
    print(f"{corpus.n_tokens:,} tokens, {len(corpus.itos):,} distinct, {how} in {took:.1f} s{rate}")
    print(f"kept in {corpus.folder}" if corpus.folder else "small enough not to be cached")
    return 0


def goto_workspace(path: Path) -> Path:
    """Where `l4tui goto` / `refs` look for names: the file's project; a file in no project but
    under the current folder, that folder (as the app started there reads it: `refs pkg/core.py`
    finds the uses in ./use.py); else the file's folder."""
    from l4tui.paths import project_root, workspace_root

    here = Path.cwd().resolve()
    if project_root(path.parent) is None and path.is_relative_to(here):
        return workspace_root(here)
    return workspace_root(path.parent)


def cmd_goto(args) -> int:
    """`l4tui goto` / `l4tui refs`: the Code pane's navigation, for scripts and other editors."""
    from concurrent.futures import TimeoutError as Timeout

    from l4tui.code.location import parse_place
    from l4tui.code.navigator import LOOKUP_TIMEOUT_S, Navigator
    from l4tui.code.source import SourceError, read_source
    from l4tui.textcut import clip

    place = parse_place(args.place, need_column=True)
    try:
        source = read_source(place.path)  # before resolving: a link loop gets its own message
    except SourceError as error:
        raise ValueError(str(error)) from None
    path = place.path.resolve()
    lines = source.splitlines()
    if place.line > len(lines) or place.column > len(lines[place.line - 1]):
        raise ValueError(f"{args.place} is past the end of {'the file' if place.line > len(lines) else 'the line'}")
    navigator = Navigator(goto_workspace(path), args.python)
    for problem in navigator.problems:  # an environment that is not one: said, and the next one used
        print(f"l4tui: {problem}; using {navigator.environment_label}", file=sys.stderr)
    ask = navigator.goto if args.command == "goto" else navigator.references
    try:
        answers = ask(source, path, place.line, place.column).result(timeout=LOOKUP_TIMEOUT_S)
    except Timeout:
        print(clip(f"l4tui: jedi took over {LOOKUP_TIMEOUT_S:.0f} s on {args.place}: gave up"), file=sys.stderr)
        return 1
    except Exception as error:  # jedi failing on odd code: one line, not its traceback
        print(clip(f"l4tui: jedi failed on {args.place}: {type(error).__name__}: {error}"), file=sys.stderr)
        return 1
    if args.command == "goto":
        definitions = answers
        found = False
        for definition in definitions:
            if definition.location is None:
                print(f"l4tui: {definition.module_name}.{definition.name} has no Python source (compiled)",
                      file=sys.stderr)
                continue
            found = True
            print(definition.location)
            if definition.real_location:  # a stub's .py twin: the code itself
                print(definition.real_location)
            elif definition.is_stub:
                print(f"l4tui: {definition.location.path.name} is a type stub; the code is compiled",
                      file=sys.stderr)
        if not definitions:
            print("l4tui: no definition found", file=sys.stderr)
        return 0 if found else 1
    references = answers
    for reference in references:
        print(f"{reference.location}: {reference.text}")
    if not references:
        print("l4tui: no references found", file=sys.stderr)
    return 0 if references else 1


if __name__ == "__main__":
    sys.exit(main())
