"""`drugtrace-agent explain-code` for counter staff and auditors."""

from __future__ import annotations

from click.testing import CliRunner

from agent.cli import main


def test_explains_a_gs1_datamatrix_typed_with_gs_marker() -> None:
    result = CliRunner().invoke(main, ["explain-code", "]d201095011015300031726123110A1<GS>21SER1"])
    assert result.exit_code == 0, result.output
    assert "GS1" in result.output and "(01)09501101530003(21)SER1" in result.output
    assert "有效期(17)：2026-12-31" in result.output and "批号(10)：A1" in result.output


def test_refuses_a_commodity_barcode_from_stdin_bytes() -> None:
    result = CliRunner().invoke(main, ["explain-code", "-"], input=b"6901234567892\r\n")
    assert result.exit_code == 1
    assert "这是商品条码，不是追溯码" in result.output and "Commodity barcode" in result.output


def test_binary_noise_is_explained_not_crashed() -> None:
    result = CliRunner().invoke(main, ["explain-code", "-"], input=b"\x00\xff\x13")
    assert result.exit_code == 1 and "ASCII" in result.output
