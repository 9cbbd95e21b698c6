"""Settings precedence (flags > env > .env > defaults), the labs' own names, and secret hygiene."""

from streamlab.settings import load_settings


def test_lab_names_are_read_as_is(monkeypatch):
    monkeypatch.setenv("FINNHUB_API_KEY", "fh-secret-123")
    monkeypatch.setenv("HWE_BOOTSTRAP", "b-1.kafka:9096")
    monkeypatch.setenv("HWE_USERNAME", "student")
    monkeypatch.setenv("HWE_PASSWORD", "pw-secret-456")
    s = load_settings()
    assert s.finnhub_api_key.get_secret_value() == "fh-secret-123"
    assert s.kafka_bootstrap == "b-1.kafka:9096"
    assert s.kafka_username == "student"
    assert s.kafka_password.get_secret_value() == "pw-secret-456"
    dumped = repr(s) + str(s) + s.model_dump_json()
    assert "fh-secret-123" not in dumped and "pw-secret-456" not in dumped


def test_streamlab_names_win_over_course_names(monkeypatch):
    monkeypatch.setenv("HWE_BOOTSTRAP", "course:9096")
    monkeypatch.setenv("STREAMLAB_KAFKA_BOOTSTRAP", "mine:9092")
    assert load_settings().kafka_bootstrap == "mine:9092"


def test_flags_override_env_and_env_overrides_dotenv(monkeypatch, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("AWS_REGION=eu-west-1\nSTREAMLAB_ENDPOINT_URL=http://from-file:1\nSTREAMLAB_LAB=file-lab\n")
    monkeypatch.setenv("STREAMLAB_ENV_FILE", str(env_file))
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    s = load_settings()
    assert s.region == "eu-west-1" and s.endpoint_url == "http://from-file:1" and s.lab == "file-lab"
    monkeypatch.setenv("STREAMLAB_ENDPOINT_URL", "http://from-env:2")
    assert load_settings().endpoint_url == "http://from-env:2"
    assert load_settings(endpoint_url="http://from-flag:3").endpoint_url == "http://from-flag:3"
    # a flag left unset (None) does not mask the environment
    assert load_settings(endpoint_url=None).endpoint_url == "http://from-env:2"


def test_region_falls_back_to_default_region_then_us_east_1(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert load_settings().effective_region == "ap-south-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert load_settings().effective_region == "us-east-1"


def test_local_flag_from_env(monkeypatch):
    monkeypatch.setenv("STREAMLAB_LOCAL", "1")
    assert load_settings().local is True


def test_sample_env_has_no_values_for_secrets():
    from pathlib import Path

    sample = Path(__file__).parent.parent / "examples" / "sample.env"
    for line in sample.read_text().splitlines():
        if line.startswith(("FINNHUB_API_KEY", "HWE_PASSWORD", "AWS_SECRET_ACCESS_KEY")):
            assert line.split("=", 1)[1].strip() == "", line
