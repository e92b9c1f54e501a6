"""``python -m core model-risk DATA --target COL [--model M] [--recipe R] [--json OUT]``.

Trains logistic regression (or, with ``--model mlp``, a one-hidden-layer perceptron) on
repeated half/half splits of the table (and, with ``--recipe``, of the hardened table) and
prints utility (test accuracy, AUC, majority baseline) and the membership advantage of the
loss-threshold attack with its confidence interval (:func:`core.models.membership_risk`).
``--epsilon`` trains the DP variant (objective perturbation, logistic regression only) and
adds the advantage bound that epsilon implies; ``--regularization`` is its public strength
``Lambda`` (:func:`core.models.dp_logistic_regression`): the noise depends on epsilon and
``Lambda`` only, never on the number of rows.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from core.limits import MODEL_REGULARIZATION_DEFAULT as DP_REGULARIZATION

__all__ = ["add_model_risk"]


def add_model_risk(sub: Any) -> None:
    """Register ``model-risk`` on the top-level subparsers ``sub``."""
    p = sub.add_parser(
        "model-risk",
        help="utility and membership-inference advantage of a model trained on a table",
    )
    p.add_argument("file", help="CSV, TSV, XLSX, Parquet or JSON file")
    p.add_argument("--target", required=True, help="binary column the model predicts")
    p.add_argument("--recipe", help="also measure the table hardened by this recipe (JSON)")
    p.add_argument(
        "--key-file",
        action="append",
        metavar="[NAME=]FILE",
        help="pseudonymization key file the recipe needs; repeat per key name",
    )
    p.add_argument(
        "--model",
        choices=("logistic", "mlp"),
        default="logistic",
        help="classifier: L2 logistic regression (default) or a one-hidden-layer MLP",
    )
    p.add_argument("--repeats", type=int, default=5, help="random splits (default 5)")
    p.add_argument(
        "--l2", type=float, default=1e-3, help="ridge strength of the non-DP model (default 1e-3)"
    )
    p.add_argument("--epsilon", type=float, help="train with epsilon-DP (objective perturbation)")
    p.add_argument(
        "--regularization",
        type=float,
        default=DP_REGULARIZATION,
        metavar="LAMBDA",
        help="with --epsilon: public regularization strength of the DP model, chosen without "
        f"looking at the data (default {DP_REGULARIZATION:g})",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the splits (default 0)")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="also write the report here")
    p.set_defaults(handler=_model_risk)


def _measure(df: Any, args: argparse.Namespace) -> dict[str, Any]:
    from core.models import membership_risk

    report = membership_risk(
        df,
        args.target,
        repeats=args.repeats,
        l2=args.l2,
        epsilon=args.epsilon,
        regularization=args.regularization,
        seed=args.seed,
        model=args.model,
    )
    out = asdict(report)
    out["warnings"] = list(report.warnings)
    out["regularization"] = None if args.epsilon is None else args.regularization
    return out


def _text(name: str, r: dict[str, Any]) -> str:
    lines = [
        f"{name}: {r['model']} model, {r['n_train']:,} training / {r['n_test']:,} held-out "
        f"rows, {r['repeats']} repeats",
        f"  test accuracy   {r['accuracy']:.4f}  "
        f"[{r['accuracy_ci'][0]:.4f}, {r['accuracy_ci'][1]:.4f}]",
        f"  test AUC        {r['auc']:.4f}",
        f"  majority base   {r['baseline']:.4f}",
        f"  train accuracy  {r['train_accuracy']:.4f}",
        f"  membership advantage (threshold = mean training loss)  {r['advantage']:+.4f}  "
        f"{100 * r['confidence']:.0f}% CI [{r['advantage_ci'][0]:+.4f}, "
        f"{r['advantage_ci'][1]:+.4f}]",
        f"  membership advantage (best threshold)                  {r['best_advantage']:+.4f}"
        f"  [{r['best_advantage_ci'][0]:+.4f}, {r['best_advantage_ci'][1]:+.4f}]",
    ]
    if r["epsilon"] is not None:
        lines.append(
            f"  epsilon-DP training, epsilon {r['epsilon']:g}, public regularization "
            f"{r['regularization']:g}: any attacker's advantage <= {r['bound']:.4f}"
        )
    lines += [f"  warning: {w}" for w in r["warnings"]]
    return "\n".join(lines) + "\n"


def _model_risk(args: argparse.Namespace, out: TextIO, progress: Any) -> int:
    import getpass

    from core.cli import _collect_secrets, _load
    from core.recipe import Recipe, apply, validate

    recipe = Recipe.from_json(Path(args.recipe).read_bytes()) if args.recipe else None
    df = _load(args.file, args.na_values, progress)
    progress(f"Training on {args.repeats} splits of the original table")
    report: dict[str, Any] = {"file": Path(args.file).name, "target": args.target}
    report["original"] = _measure(df, args)
    if recipe is not None:
        validate(df, recipe)
        secrets = _collect_secrets(recipe.secrets_needed(), args.key_file or [], getpass.getpass)
        progress("Applying the recipe")
        hardened = apply(df, recipe, secrets=secrets).frame
        progress(f"Training on {args.repeats} splits of the hardened table")
        report["hardened"] = _measure(hardened, args)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.format == "json":
        json.dump(report, out, indent=2)
        out.write("\n")
    else:
        out.write(_text("original", report["original"]))
        if "hardened" in report:
            out.write(_text("hardened", report["hardened"]))
    return 0
