"""init and passwd refuse passphrases that fall to a dictionary attack, and say why in Chinese (English on ask)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from field_agent.cli.demo_cmd import DEMO_PASSPHRASE
from field_agent.cli.main import cli

GOOD = "correct horse battery staple"
# Each is 12+ characters of mixed kinds, and each falls to an offline dictionary attack in well under 10^10 tries.
DICTIONARY_FALLS = [
    "P@ssw0rd1234",
    "Aa123456789!",
    "1qaz2wsx3edc4rfv",
    "zhangsan1988",
    "lifeng19880715",
    "Zhang@1988715",
]


def invoke(store: Path, *args: str, **env: str):
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_LANG": "", **env})


@pytest.mark.parametrize("passphrase", DICTIONARY_FALLS)
def test_init_refuses_dictionary_passphrases_with_a_chinese_reason(passphrase: str, tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = invoke(store, "init", "--kdf-profile", "test", FIELD_AGENT_PASSPHRASE=passphrase)
    assert result.exit_code == 1
    assert result.stderr.startswith("field-agent: 密码强度不够：") and result.stderr.count("\n") == 1
    assert "请用几个互不相关的词" in result.stderr or "请选几个互不相关的词" in result.stderr
    assert passphrase not in result.stderr
    assert not store.exists() or not any(store.iterdir())


@pytest.mark.parametrize(
    ("passphrase", "reason"),
    [
        ("zhangsan1988", "拼音姓名、年份"),
        ("lifeng19880715", "拼音姓名、日期"),
        ("wangfang13812345678", "手机号"),
        ("chenjing350181199001011234", "身份证号片段"),
        ("P@ssw0rd1234", "常见密码"),
    ],
)
def test_the_reason_names_what_the_passphrase_is_made_of(passphrase: str, reason: str, tmp_path: Path) -> None:
    result = invoke(tmp_path / "store", "init", "--kdf-profile", "test", FIELD_AGENT_PASSPHRASE=passphrase)
    assert result.exit_code == 1 and reason in result.stderr, result.stderr


def test_english_on_ask_and_passwd_refuses_the_same(tmp_path: Path) -> None:
    store = tmp_path / "store"
    english = invoke(store, "--lang", "en", "init", "--kdf-profile", "test", FIELD_AGENT_PASSPHRASE="zhangsan1988")
    assert english.exit_code == 1
    assert "Passphrase too weak: it is made of a pinyin name, a year" in english.stderr
    assert invoke(store, "init", "--kdf-profile", "test", FIELD_AGENT_PASSPHRASE=GOOD).exit_code == 0
    weak = invoke(store, "passwd", FIELD_AGENT_PASSPHRASE=GOOD, FIELD_AGENT_NEW_PASSPHRASE="Zhang@1988715")
    assert weak.exit_code == 1 and "密码强度不够" in weak.stderr and "日期" in weak.stderr
    assert invoke(store, "status", FIELD_AGENT_PASSPHRASE=GOOD).exit_code == 0


@pytest.mark.parametrize(
    "passphrase", ["玉屏街道东门社区的老槐树下午三点开花", "orbit kettle meadow piano", DEMO_PASSPHRASE]
)
def test_long_passphrases_of_unrelated_words_are_accepted(passphrase: str, tmp_path: Path) -> None:
    result = invoke(tmp_path / "store", "init", "--kdf-profile", "test", FIELD_AGENT_PASSPHRASE=passphrase)
    assert result.exit_code == 0, result.stderr
