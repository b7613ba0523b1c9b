"""The dashboard's "Who sounds like whom" panel and the attribution trend under the loss chart, driven by a
scripted events file (each event checked against friendsim_tui.runs' schema, as the engine writes it) and the
held-out figures a finished run saves in its folder."""

from __future__ import annotations

from test_dashboard import DashApp, Run, _wait_for, run, run_async, text_of, watching  # noqa: F401 (run: a fixture)
from tui_helpers import wait_until

from friendsim_tui import runs
from friendsim_tui.tui.run_state import DONE, RUNNING
from friendsim_tui.tui.widgets.attribution import WhoPanel
from friendsim_tui.tui.widgets.loss_chart import LossChart

SMALL, MEDIUM = (80, 24), (100, 30)
CREW = ["Maya", "Jonas", "Priya", "pixel_dan"]


def attribution(step: int, confusion: dict[str, dict[str, int]]) -> dict:
    """An attribution event (runs.AttributionEvent) for ``confusion`` (who wrote -> whose voice -> turns)."""
    rows = {who: sum(row.values()) for who, row in confusion.items()}
    turns = sum(rows.values())
    right = sum(row.get(who, 0) for who, row in confusion.items())
    return {"type": "attribution", "time": 1700000000.0 + step, "step": step, "accuracy": round(right / turns, 4),
            "baseline": round(max(rows.values()) / turns, 4), "turns": turns,
            "speakers": {who: round(row.get(who, 0) / rows[who], 4) for who, row in confusion.items()},
            "confusion": {who: {v: n for v, n in row.items() if n} for who, row in confusion.items()}}


def rows(shown: str) -> dict[str, list[str]]:
    """The table's rows as the panel shows them: friend -> the cells after their name."""
    out = {}
    for line in shown.splitlines():
        cells = line.strip("│ ").split()
        if cells and cells[0] in ("Maya", "Jonas", "pixel_dan") and "%" in line:
            out[cells[0]] = cells[1:]
    return out


def evaluate(run: Run, step: int, loss: float, best: tuple[int, float], max_steps: int = 400) -> None:
    run.write({"type": "eval", "time": 1700000000.0 + step, "step": step, "max_steps": max_steps, "eval_loss": loss,
               "perplexity": 10.0, "tokens": step * 16384, "blocks": 300, "best_step": best[0],
               "best_eval_loss": best[1]})


EARLY = {"Maya": {"Maya": 6, "Jonas": 4, "pixel_dan": 2}, "Jonas": {"Maya": 5, "Jonas": 6, "pixel_dan": 1},
         "pixel_dan": {"Maya": 3, "Jonas": 3, "pixel_dan": 6}}
LATER = {"Maya": {"Maya": 9, "Jonas": 3}, "Jonas": {"Jonas": 10, "pixel_dan": 2},
         "pixel_dan": {"Maya": 1, "pixel_dan": 11}}


@run_async
async def test_the_panel_appears_at_the_first_eval_and_follows_each_one(run):
    run.start(max_steps=400)  # speakers Maya, Jonas, pixel_dan
    run.steps(1, 100, max_steps=400)
    async with watching(run, 100) as (screen, pilot):
        panel, chart = screen.query_one(WhoPanel), screen.query_one(LossChart)
        assert not panel.display and chart.border_title == "Loss"  # nothing to show before an eval
        evaluate(run, 100, 3.1, (100, 3.1))
        run.write(attribution(100, EARLY))
        await wait_until(pilot, lambda: panel.display, "the panel")
        await pilot.pause()
        shown = text_of(panel)
        assert "Who sounds like whom (held-out talk, step 100 · best step 100)" in shown
        assert "told apart 50% of the time (guessing: 33%) · 36 held-out lines" in shown
        assert "rows: who wrote · columns: whose voice the model hears" in shown
        assert rows(shown) == {"Maya": ["██", "50%", "33%", "17%"],  # half of Maya's lines heard as her
                               "Jonas": ["42%", "██", "50%", "8%"], "pixel_dan": ["25%", "25%", "██", "50%"]}
        assert "50% " in text_of(chart) and "Loss · ▇ told apart" in text_of(chart)

        run.steps(101, 200, max_steps=400)
        evaluate(run, 200, 2.9, (200, 2.9))
        run.write(attribution(200, LATER))
        await wait_until(pilot, lambda: screen.state.attributions[-1][0] == 200, "the second eval")
        await pilot.pause()
        shown = text_of(panel)
        assert "(held-out talk, step 200 · best step 200)" in shown
        assert "told apart 83% of the time (guessing: 33%)" in shown
        assert rows(shown) == {"Maya": ["███", "75%", "25%", "·"], "Jonas": ["·", "███", "83%", "17%"],
                               "pixel_dan": ["8%", "·", "████", "92%"]}
        strip = [line for line in text_of(chart).splitlines() if "83%" in line]
        assert len(strip) == 1 and strip[0].split() == ["│", "83%", "▄", "▇", "│"]  # 50% then 83%: 4/8 and 7/8


@run_async
async def test_a_finished_run_shows_every_held_out_line_and_how_often_it_copies(run):
    run.start(max_steps=400)
    run.steps(1, 200, max_steps=400)
    evaluate(run, 200, 2.9, (200, 2.9))
    run.write(attribution(200, LATER))
    run.done(200, max_steps=400)
    figures = {"run": run.dir.name, "step": 200, "eval_loss": 2.9, "perplexity": 18.2, "attribution_accuracy": 0.78,
               "attribution_baseline": 0.3333,
               "confusion": {"Maya": {"Maya": 40, "Jonas": 6, "pixel_dan": 4}, "Jonas": {"Jonas": 45, "Maya": 5},
                             "pixel_dan": {"pixel_dan": 32, "Maya": 10, "Jonas": 8}},
               "speakers": {}, "verbatim_rate": 0.12, "distinct_2": 0.8, "samples": 200, "seconds": 30.0,
               "source": "model", "notes": []}
    runs.write_json_atomic(run.dir / runs.EVAL_FILE, figures)
    async with watching(run, 200) as (screen, pilot):
        panel = screen.query_one(WhoPanel)
        await wait_until(pilot, lambda: screen.figures, "the run's figures")
        await pilot.pause()
        shown = text_of(panel)
        assert "Who sounds like whom (all held-out talk, step 200)" in shown
        assert "told apart 78% of the time (guessing: 33%) · 150 held-out lines" in shown
        assert "copies old lines: 12% of 200 sampled lines" in shown
        assert rows(shown) == {"Maya": ["███", "80%", "12%", "8%"], "Jonas": ["10%", "████", "90%", "·"],
                               "pixel_dan": ["20%", "16%", "███", "64%"]}

        run.start(max_steps=400, step=200)  # trained on: the panel goes back to the evals of this run
        run.steps(201, 202, max_steps=400)
        await wait_until(pilot, lambda: screen.state.status == RUNNING and screen.figures is None, "the resume")
        await pilot.pause()
        assert "all held-out talk" not in text_of(panel) and "(held-out talk, step 200" in text_of(panel)


@run_async
async def test_names_are_inert_and_cut_to_fit_in_80_columns(run):
    names = ["[bold]x[/]", "Eve\x1b[31m", "[@click=app.quit]", "Bartholomew-the-third"]
    run.start(max_steps=400, speakers=names)
    run.steps(1, 100, max_steps=400)
    run.write(attribution(100, {n: {m: 3 if n == m else 1 for m in names} for n in names}))
    app = DashApp(run.dir)
    async with app.run_test(size=SMALL) as pilot:
        screen = app.screen
        panel = screen.query_one(WhoPanel)
        await wait_until(pilot, lambda: panel.display and screen.state.step == 100, "the panel")
        await pilot.pause()
        shown = text_of(panel)
        assert "│ [bold]x[/]       50%" in shown and "│ Eve␛[31m         17%     50%" in shown  # as written
        assert "│ [@click=app…     17%" in shown and "│ Bartholomew…     17%" in shown  # cut to fit, with …
        assert panel.region.right <= SMALL[0] and "told apart 50% of the time (guessing: 25%)" in shown
        for offset in ((3, 3), (10, 4), (20, 5)):
            await pilot.click(WhoPanel, offset=offset)
        await pilot.pause()
        assert app.is_running and app.screen is screen


def test_the_attribution_a_real_run_writes_fills_the_panel_and_the_trend():
    """fixtures/tiny_run.jsonl: a real tiny run's events (an attribution event after each eval)."""
    from test_run_state import RECORDED

    from friendsim_tui.runs import parse_lines
    from friendsim_tui.tui.run_state import RunState
    from friendsim_tui.tui.widgets.attribution import view_of, who_lines

    events, _bad = parse_lines(RECORDED.read_bytes().splitlines())
    state = RunState()
    state.apply_all(events)
    assert [step for step, _ in state.attributions] == [s for s, _loss, _ppl in state.evals] == [2, 4, 6]
    view = view_of(state)
    assert view is not None and view.step == 6 and view.turns == state.attribution["turns"] > 0
    lines = [line.plain for line in who_lines(view, 60)]
    assert lines[0].startswith(f"told apart {state.attribution['accuracy'] * 100:.0f}% of the time (guessing: ")
    assert {line.split()[0] for line in lines[2:]} == {"Alice", "Bob", "Carol"}  # a row for each friend


def _crew_run(run: Run, done: bool) -> None:
    run.start(max_steps=400, speakers=CREW)
    last = 400 if done else 340
    run.steps(1, last, max_steps=400)
    table = {who: {voice: (8 if who == voice else 1 + (i + j) % 3) for j, voice in enumerate(CREW)}
             for i, who in enumerate(CREW)}
    for s, loss in ((100, 2.95), (200, 2.71), (300, 2.58)):
        evaluate(run, s, loss, (s, loss))
        table = {who: {voice: n + (3 if who == voice else 0) for voice, n in row.items()} for who, row in table.items()}
        run.write(attribution(s, table))
    run.sample(300, {"Maya": "omg the ramen place was SO good lol", "Jonas": "Well, to be fair, the train was late.",
                     "Priya": "ok but who is bringing the speaker", "pixel_dan": "bro the patch notes are cooked 💀"})
    if done:
        evaluate(run, 400, 2.61, (300, 2.58))
        run.write(attribution(400, table))
        run.write({"type": "done", "time": 1700000400.0, "status": "done", "step": 400, "max_steps": 400,
                   "model": "model", "eval": {"eval_loss": 2.58, "perplexity": 13.2}, "tokens": 400 * 16384,
                   "best_step": 300, "best_eval_loss": 2.58})
        runs.write_json_atomic(run.dir / runs.EVAL_FILE, {
            "run": run.dir.name, "step": 300, "eval_loss": 2.58, "perplexity": 13.2, "attribution_accuracy": 0.71,
            "attribution_baseline": 0.25, "confusion": {who: {voice: n * 4 for voice, n in row.items()}
                                                       for who, row in table.items()},
            "speakers": {}, "verbatim_rate": 0.12, "distinct_2": 0.81, "samples": 200, "seconds": 41.0})


def test_snapshot_who_sounds_like_whom_mid_run_at_80x24(run, snap_compare):
    _crew_run(run, done=False)
    assert snap_compare(DashApp(run.dir), terminal_size=SMALL, run_before=_wait_for(340, RUNNING))


def test_snapshot_who_sounds_like_whom_finished_at_100x30(run, snap_compare):
    _crew_run(run, done=True)

    async def run_before(pilot) -> None:
        await _wait_for(400, DONE)(pilot)
        await wait_until(pilot, lambda: pilot.app.screen.figures, "the figures")
        await pilot.pause()

    assert snap_compare(DashApp(run.dir), terminal_size=MEDIUM, run_before=run_before)
