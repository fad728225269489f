import io
import json
import logging

from lora_city.observability.logs import JsonFormatter, log_context


def _capture() -> tuple[logging.Logger, io.StringIO]:
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.json")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, buf


def test_json_line_carries_context_from_contextvar_and_extra() -> None:
    logger, buf = _capture()
    with log_context(uplink_id="u-1", gateway_id="0102030405060708"):
        logger.warning("bad mic", extra={"dev_eui": "70b3d57ed0000001"})
    logger.info("outside")
    first, second = (json.loads(line) for line in buf.getvalue().splitlines())
    assert first["message"] == "bad mic" and first["level"] == "WARNING"
    assert first["uplink_id"] == "u-1" and first["gateway_id"] == "0102030405060708"
    assert first["dev_eui"] == "70b3d57ed0000001"
    assert "uplink_id" not in second  # the context ends with the block


def test_exception_is_serialised() -> None:
    logger, buf = _capture()
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    record = json.loads(buf.getvalue())
    assert "ValueError: boom" in record["exception"]
