import pytest

from friendsim_tui.config import Config, ConfigError, example_config, load_config, parse_config


def test_example_config_is_valid_and_matches_defaults():
    cfg = parse_config(example_config(), "example")
    defaults = Config()
    assert cfg.dataset == defaults.dataset
    assert cfg.train == defaults.train
    assert cfg.chat == defaults.chat


def test_unknown_key_names_file_key_and_choices(tmp_path):
    p = tmp_path / "config.toml"
    p.write_text("[chat]\ntemprature = 0.7\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert str(p) in msg and "temprature" in msg and "temperature" in msg


def test_wrong_type_says_what_was_expected(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[train]\nmax_steps = "lots"\n')
    with pytest.raises(ConfigError, match=r"c\.toml: \[train\] max_steps: expected an integer"):
        load_config(p)


def test_bool_is_not_a_number():
    with pytest.raises(ConfigError, match="expected a number"):
        parse_config("[chat]\ntemperature = true\n")


def test_unknown_section_and_bad_toml():
    with pytest.raises(ConfigError, match="unknown section"):
        parse_config("[chatt]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[chat\n")


def test_invalid_values_are_rejected():
    with pytest.raises(ConfigError, match="redact"):
        parse_config('[dataset]\nredact = ["emails", "ssn"]\n')
    with pytest.raises(ConfigError, match="candidates"):
        parse_config("[chat]\ncandidates = 12\n")


def test_int_accepted_for_float_and_values_applied():
    cfg = parse_config("[dataset]\nsession_gap_minutes = 60\n[chat]\ncandidates = 5\n")
    assert cfg.dataset.session_gap_minutes == 60.0
    assert cfg.chat.candidates == 5


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_missing_default_config_gives_defaults(data_dir):
    assert load_config().chat.temperature == 0.4


@pytest.mark.parametrize("section, key, value", [
    ("dataset", "session_gap_minutes", "nan"),
    ("dataset", "session_gap_minutes", "0"),
    ("dataset", "eval_fraction", "1.0"),
    ("chat", "temperature", "inf"),
    ("chat", "temperature", "0"),
    ("chat", "top_p", "nan"),
    ("chat", "repetition_penalty", "-1.0"),
    ("train", "learning_rate", "-0.01"),
    ("train", "learning_rate", "nan"),
    ("train", "lora_r", "0"),
    ("train", "weight_decay", "-5"),
    ("train", "warmup_ratio", "1.5"),
    ("train", "dropout", "-inf"),
    ("train", "block_size", "0"),
    ("train", "seed", "-1"),
])
def test_out_of_range_values_name_file_key_and_what_is_allowed(tmp_path, section, key, value):
    p = tmp_path / "config.toml"
    p.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}: [{section}] {key} = ") and "must be " in msg
    assert any(word in msg for word in ("from ", ">", "<"))


def test_edges_of_the_ranges_are_accepted():
    cfg = parse_config("[dataset]\neval_fraction = 0.0\n[chat]\ntop_p = 1.0\ntop_k = 0\n"
                       "[train]\nlearning_rate = 0.0\nwarmup_ratio = 0.0\nweight_decay = 0.0\n")
    assert cfg.chat.top_p == 1.0 and cfg.train.learning_rate == 0.0


def test_the_range_table_is_not_a_setting():
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config("[chat]\nRANGES = 1\n")


def test_a_bad_value_on_the_command_line_is_one_line_before_anything_runs(capsys, data_dir):
    from friendsim_tui import cli

    code = cli.main(["train", "-w", "crew", "--lr", "nan"])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert "learning_rate = nan: must be from 0 to 1" in err
    assert not (data_dir / "workspaces").exists()
