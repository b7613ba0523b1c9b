"""Importing into a workspace: namesake accounts kept apart, a full disk that changes nothing."""

from __future__ import annotations

import json

from friendsim_tui import cli
from friendsim_tui.services import importing
from friendsim_tui.store import Store


def discord_export(tmp_path, authors: list[tuple[str, str]], name: str = "export.json"):
    """A DiscordChatExporter JSON file with one message by each (account id, display name)."""
    messages = [
        {
            "id": str(1000 + i), "type": "Default", "timestamp": f"2024-01-01T10:00:{i:02d}+00:00",
            "timestampEdited": None, "isPinned": False, "content": f"message {i} from {who}",
            "author": {"id": uid, "name": who.lower().replace(" ", "_"), "discriminator": "0000", "nickname": who,
                       "isBot": False, "roles": [], "avatarUrl": ""},
            "attachments": [], "embeds": [], "stickers": [], "reactions": [], "mentions": [],
        }
        for i, (uid, who) in enumerate(authors)
    ]
    doc = {
        "guild": {"id": "9", "name": "Friends", "iconUrl": ""},
        "channel": {"id": "1", "type": "GuildTextChat", "categoryId": None, "category": None, "name": "general",
                    "topic": None},
        "messages": messages,
        "messageCount": len(messages),
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_two_discord_accounts_named_alike_are_kept_apart_and_the_user_told(data_dir, tmp_path, transcript):
    export = discord_export(tmp_path, [("1", "Deleted User"), ("2", "Deleted User"), ("2", "Deleted User"),
                                       ("3", "Maya")])
    chat = transcript("Maya: hi from whatsapp-ish\n")  # another source: Maya is the same friend there

    preview = importing.preview([export, chat])
    assert sorted(i.name for i in preview.identities) == ["Deleted User", "Deleted User (2)", "Maya", "Maya"]
    assert len(preview.warnings) == 1 and "Deleted User (2)" in preview.warnings[0]

    result = importing.import_paths("w", [export, chat])
    assert result.speakers == {"Deleted User": 1, "Deleted User (2)": 2, "Maya": 2}
    (warning,) = [w for w in result.warnings if "Deleted User" in w]
    assert "kept apart" in warning and "'Deleted User (2)'" in warning
    with Store.for_workspace("w") as store:
        assert {s.name: s.messages for s in store.speakers()} == {"Deleted User": 1, "Deleted User (2)": 2, "Maya": 2}


def test_a_name_chosen_in_the_preview_merges_namesakes(data_dir, tmp_path):
    export = discord_export(tmp_path, [("1", "Deleted User"), ("2", "Deleted User")])
    choice = importing.SpeakerChoice(name="Deleted User")  # the user merged the second into the first
    result = importing.import_paths("w", [export], {("dce-json", "discord:2"): choice})
    assert result.speakers == {"Deleted User": 2}
    assert not [w for w in result.warnings if "kept apart" in w]


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
