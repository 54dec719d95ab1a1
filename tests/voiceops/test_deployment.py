"""The deployable topology: docker-compose.yml, the proxy configuration and .env.example agree
with each other and with the settings (Docker cannot run here; these are its invariants)."""

import re
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = ["proxy", "web", "worker", "beat", "postgres", "redis"]


def settings_variables() -> set[str]:
    source = (ROOT / "voiceops" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|list|url|decimal)\(\s*"([A-Z0-9_]+)"', source))


def test_every_setting_read_from_the_environment_is_in_env_example_and_the_readme():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z0-9_]+)=", example, re.MULTILINE))
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    table = table[: table.index("\n## ")]

    assert settings_variables() - listed == set()
    assert {name for name in settings_variables() if f"`{name}`" not in table} == set()


def test_every_variable_the_compose_file_interpolates_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z0-9_]+)=", example, re.MULTILINE))
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))

    assert used - listed == set()


def test_web_and_worker_share_the_upload_storage_the_settings_point_at():
    web, worker = SERVICES["web"], SERVICES["worker"]
    var_dir = web["environment"]["VOICEOPS_VAR_DIR"]

    assert worker["environment"]["VOICEOPS_VAR_DIR"] == var_dir
    assert web["volumes"] == worker["volumes"] == [f"imports:{var_dir}"]
    assert "imports" in COMPOSE["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    # The image creates the directory owned by the user it runs as, so a fresh named volume
    # mounted there is writable by that user.
    assert f"mkdir -p {var_dir}/imports" in dockerfile
    assert f"chown -R voiceops:voiceops {var_dir}" in dockerfile
    assert dockerfile.index("chown -R voiceops") < dockerfile.index("USER voiceops")


def test_web_replicas_sit_behind_the_proxy_and_workers_are_prefork():
    web, worker, proxy = SERVICES["web"], SERVICES["worker"], SERVICES["proxy"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()

    assert "ports" not in web
    assert web["deploy"]["replicas"] == "${WEB_REPLICAS:-2}"
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert re.search(r"dynamic a \{\s*name web\s*port 8000", caddyfile)
    assert "tls {$CADDY_TLS:internal}" in caddyfile
    max_size = re.search(r"max_size \{\$MAX_UPLOAD_MB:(\d+)\}MiB", caddyfile)
    declared = re.search(
        r"int\(\{http.request.header.Content-Length\}\) > \{\$MAX_UPLOAD_MB:(\d+)\} \* 1048576",
        caddyfile,
    )
    assert int(max_size[1]) * 1024 * 1024 == settings.MAX_UPLOAD_BYTES  # the default
    assert int(declared[1]) * 1024 * 1024 == settings.MAX_UPLOAD_BYTES
    assert re.search(r"respond @too_large .* 413", caddyfile)
    assert worker["command"][worker["command"].index("--pool") + 1] == "prefork"
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_every_long_running_service_has_a_health_check_and_restarts():
    for name in LONG_RUNNING:
        assert SERVICES[name]["healthcheck"]["test"], name
        assert SERVICES[name]["restart"] == "unless-stopped", name
    assert SERVICES["web"]["healthcheck"]["test"][-1] == "web"
    assert SERVICES["worker"]["healthcheck"]["test"][-1] == "worker"
    beat_schedule = SERVICES["beat"]["command"][SERVICES["beat"]["command"].index("-s") + 1]
    assert SERVICES["beat"]["healthcheck"]["test"][-1] == beat_schedule


def test_the_image_leaves_out_secrets_history_and_local_data():
    ignored = (ROOT / ".dockerignore").read_text().split()

    assert {".git", ".env", ".venv", "var", "tests"} <= set(ignored)
