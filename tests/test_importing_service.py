"""Importing into a workspace: a full disk changes nothing."""

from __future__ import annotations

from friendsim_tui import cli
from friendsim_tui.store import Store


def test_disk_full_during_an_import_is_one_line_and_leaves_the_workspace_as_it_was(
    data_dir, transcript, capsys, monkeypatch
):
    assert cli.main(["import", str(transcript("Alice: hi\nBob: hey\n", "first.txt")), "-w", "w"]) == 0
    capsys.readouterr()
    with Store.for_workspace("w") as store:
        before = list(store.conn.iterdump())

    real_init = Store.__init__

    def nearly_full(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        self.conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # room for one more page, no more

    monkeypatch.setattr(Store, "__init__", nearly_full)
    big = transcript("".join(f"Alice: message {i} {'x' * 300}\n" for i in range(3000)), "big.txt")
    code = cli.main(["import", str(big), "-w", "w"])
    out, err = capsys.readouterr()
    monkeypatch.undo()

    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("friendsim-tui: the disk is full")
    assert "nothing was imported; free some space and import again" in err
    with Store.for_workspace("w") as store:
        assert list(store.conn.iterdump()) == before
