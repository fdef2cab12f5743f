#!/usr/bin/env bash
# Offline check of the Kubernetes deployment (deploy/kubernetes, docs/kubernetes.md). No cluster,
# no network except PyPI (to install kubernetes-validate into a temporary venv).
#
#   bash scripts/check_kubernetes.sh
#
# 1. prometheusrule.yaml is the generator's output: scripts/make_prometheusrule.py is run into a
#    temporary file and any difference fails.
# 2. Rendering: `kubectl kustomize` renders the base (deploy/kubernetes) and the example overlay
#    of docs/kubernetes.md (its kustomization.yaml and config.yml, pointed at this base).
# 3. Built-in kinds (StatefulSet, Service, ConfigMap, Secret) of both renderings: validated
#    against the Kubernetes OpenAPI schemas with `kubernetes-validate --strict` (unknown fields
#    are errors) for each version in K8S_VERSIONS.
# 4. Custom resources (PodMonitor, PrometheusRule, monitoring.coreos.com/v1): kubernetes-validate
#    has no schema for them (it prints WARN and exits 0), so they are validated here against a
#    strict JSON schema of the fields these manifests may use, with the names, types, enums and
#    patterns of the Prometheus Operator's CRDs (v0.93). A field outside that subset fails, even
#    where the real CRD would accept it. Any other kind fails: nothing passes unvalidated.
# 5. Consistency: --shard=auto, --total-shards equals replicas, --config.file is a key of the
#    mounted ConfigMap, every *_file of config.yml is a key of the mounted Secret, the Secret's
#    values are PLACEHOLDERs, the hardened security context, the probes, the resources, the
#    Service/PodMonitor selectors and ports, the job label BinanceFuturesExporterDown matches,
#    the PrometheusRule's groups equal prometheus/alerts.yml's, and the documented
#    `kubectl create secret` names the files that config.yml reads.
# 6. promtool: the PrometheusRule's groups, taken from the RENDERED base, pass
#    `promtool check rules` and prometheus/alerts_test.yml (`promtool test rules`).
#
# Not checked: anything a live API server or the Prometheus Operator would do (admission,
# defaulting, CEL rules of the CRDs, whether the operator's selectors pick the objects up),
# whether the image exists, and whether the exporter accepts config.yml (placeholder keys).
#
# Needs: kubectl, promtool (Debian: prometheus), Debian's python3 with venv (python3-venv), and
# PyPI. A missing tool fails the check; it never skips. BFE_KUBE_VENV=DIR reuses (or creates) a
# venv there instead of a temporary one.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBERNETES_VALIDATE="kubernetes-validate==1.37.0"
K8S_VERSIONS=(1.32.0 1.37.0)
python=${BFE_PYTHON:-/usr/bin/python3}

fail() { echo "check_kubernetes: FAIL: $*" >&2; exit 1; }
summary=()
ok() { summary+=("ok  $*"); echo "   ok: $*"; }

echo "== tools"
command -v kubectl >/dev/null 2>&1 \
  || fail "kubectl not found: it renders the kustomize base (kubectl kustomize). Install kubectl; this check does not skip."
command -v promtool >/dev/null 2>&1 \
  || fail "promtool not found: apt-get install prometheus (Debian). This check does not skip."
[ -x "$python" ] || fail "$python not found (Debian's python3; BFE_PYTHON=PATH names another)"
"$python" -c 'import ensurepip, venv' 2>/dev/null || fail "$python has no venv module: apt-get install python3-venv"
echo "   kubectl: $(kubectl version --client 2>/dev/null | head -n 2 | tr '\n' ' ')"
echo "   promtool: $(promtool --version 2>&1 | head -n 1)"

work=$(mktemp -d /tmp/check-kubernetes.XXXXXX)
trap 'rm -rf "$work"' EXIT

venv=${BFE_KUBE_VENV:-$work/venv}
installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))' 2>/dev/null || true)
if [ "$installed" != "${KUBERNETES_VALIDATE##*=}" ]; then
  echo "== venv ($venv): $KUBERNETES_VALIDATE (PyPI)"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$KUBERNETES_VALIDATE" \
    || fail "pip install $KUBERNETES_VALIDATE failed"
fi
py=$venv/bin/python
"$py" -c 'import yaml, jsonschema' || fail "the venv lacks PyYAML or jsonschema"

# The checks that need Python, in one file: subcommands below.
cat > "$work/check.py" <<'PY'
import os, re, sys
import jsonschema, yaml

def die(msg):
    print(f"check_kubernetes: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)

def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

def name(o):
    return f"{o.get('kind')}/{o.get('metadata', {}).get('name')}"

CRD_KINDS = {("monitoring.coreos.com/v1", "PodMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}
BUILTIN_KINDS = {("apps/v1", "StatefulSet"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "Secret")}

# ---------------------------------------------------------------- overlay from docs/kubernetes.md
def blocks(doc_path):
    """Fenced blocks that follow a `<!-- check_kubernetes.sh: NAME -->` marker."""
    text = open(doc_path, encoding="utf-8").read()
    found = {}
    # The marker and the fence may be indented (inside a list item): the block is dedented.
    for m in re.finditer(r"^( *)<!-- check_kubernetes\.sh: (\S+) -->[ \t]*\n\1```[a-z]*\n(.*?)\n\1```", text, re.S | re.M):
        indent, key, body = m.groups()
        if key in found:
            die(f"{doc_path}: marker {key} appears twice")
        lines = body.split("\n")
        if any(line.strip() and not line.startswith(indent) for line in lines):
            die(f"{doc_path}: block {key} is indented less than its fence")
        found[key] = "\n".join(line[len(indent):] for line in lines) + "\n"
    return found

def cmd_overlay(doc_path, out_dir, base_dir):
    b = blocks(doc_path)
    for needed in ("overlay/kustomization.yaml", "overlay/config.yml", "create-secret.sh"):
        if needed not in b:
            die(f"{doc_path}: no fenced block after <!-- check_kubernetes.sh: {needed} -->")
    k = yaml.safe_load(b["overlay/kustomization.yaml"])
    bases = [r for r in k.get("resources", []) if re.search(r"deploy/kubernetes(\?.*)?$", r)]
    if len(bases) != 1:
        die(f"{doc_path}: the overlay must name the base (…deploy/kubernetes) exactly once in resources:")
    k["resources"] = [os.path.relpath(base_dir, out_dir) if r in bases else r for r in k["resources"]]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "kustomization.yaml"), "w") as f:
        yaml.safe_dump(k, f, sort_keys=False)
    with open(os.path.join(out_dir, "config.yml"), "w") as f:
        f.write(b["overlay/config.yml"])
    with open(os.path.join(out_dir, "create-secret.sh"), "w") as f:
        f.write(b["create-secret.sh"])

# ---------------------------------------------------------------- split by kind
def cmd_split(rendered, builtin_out, crd_out):
    objs = load_all(rendered)
    builtin, crd = [], []
    for o in objs:
        key = (o.get("apiVersion"), o.get("kind"))
        if key in BUILTIN_KINDS:
            builtin.append(o)
        elif key in CRD_KINDS:
            crd.append(o)
        else:
            die(f"{rendered}: {name(o)} ({key[0]}): no schema in this check for this kind; add one before using it")
    for path, part in ((builtin_out, builtin), (crd_out, crd)):
        with open(path, "w") as f:
            yaml.safe_dump_all(part, f, sort_keys=False)
    print(f"{len(builtin)} {len(crd)}")

# ---------------------------------------------------------------- CRD schemas (strict subset)
# Names, types, enums and patterns as in the Prometheus Operator's CRDs (monitoring.coreos.com,
# v0.93: monitoring.coreos.com_podmonitors.yaml, monitoring.coreos.com_prometheusrules.yaml).
# Every object is closed (additionalProperties: false): a field not listed here fails, whether
# it is a typo or a real CRD field this check does not know yet (then add it here, checked
# against the CRD).
DURATION = {"type": "string",
            "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
STRMAP = {"type": "object", "additionalProperties": {"type": "string"}}
LABEL_NAME = {"type": "string", "pattern": r"^[a-zA-Z_][a-zA-Z0-9_]*$"}
DNS_SUBDOMAIN = {"type": "string", "maxLength": 253,
                 "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"}

def closed(props, required=()):
    return {"type": "object", "properties": props, "required": list(required), "additionalProperties": False}

METADATA = closed({"name": DNS_SUBDOMAIN, "namespace": DNS_SUBDOMAIN, "labels": STRMAP, "annotations": STRMAP},
                  required=["name"])
RELABEL = closed({
    "action": {"type": "string", "enum": [
        "replace", "Replace", "keep", "Keep", "drop", "Drop", "hashmod", "HashMod", "labelmap", "LabelMap",
        "labeldrop", "LabelDrop", "labelkeep", "LabelKeep", "lowercase", "Lowercase", "uppercase", "Uppercase",
        "keepequal", "KeepEqual", "dropequal", "DropEqual"]},
    "sourceLabels": {"type": "array", "items": LABEL_NAME},
    "separator": {"type": "string"},
    "targetLabel": {"type": "string"},
    "regex": {"type": "string"},
    "modulus": {"type": "integer", "minimum": 0},
    "replacement": {"type": "string"},
})
LABEL_SELECTOR = closed({
    "matchLabels": STRMAP,
    "matchExpressions": {"type": "array", "items": closed({
        "key": {"type": "string"},
        "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
        "values": {"type": "array", "items": {"type": "string"}},
    }, required=["key", "operator"])},
})
POD_MONITOR = closed({
    "apiVersion": {"const": "monitoring.coreos.com/v1"},
    "kind": {"const": "PodMonitor"},
    "metadata": METADATA,
    "spec": closed({
        "jobLabel": {"type": "string"},
        "podTargetLabels": {"type": "array", "items": {"type": "string"}},
        "selector": LABEL_SELECTOR,
        "namespaceSelector": closed({"any": {"type": "boolean"},
                                     "matchNames": {"type": "array", "items": {"type": "string"}}}),
        "sampleLimit": {"type": "integer", "minimum": 0},
        "podMetricsEndpoints": {"type": "array", "minItems": 1, "items": closed({
            "port": {"type": "string"},
            "portNumber": {"type": "integer", "minimum": 1, "maximum": 65535},
            "path": {"type": "string"},
            "scheme": {"type": "string", "enum": ["http", "https", "HTTP", "HTTPS"]},
            "interval": DURATION,
            "scrapeTimeout": DURATION,
            "honorLabels": {"type": "boolean"},
            "honorTimestamps": {"type": "boolean"},
            "relabelings": {"type": "array", "items": RELABEL},
            "metricRelabelings": {"type": "array", "items": RELABEL},
        })},
    }, required=["selector", "podMetricsEndpoints"]),
}, required=["apiVersion", "kind", "metadata", "spec"])
RULE = {
    "type": "object",
    "properties": {
        "alert": {"type": "string", "minLength": 1},
        "record": {"type": "string", "minLength": 1},
        "expr": {"type": ["string", "integer"]},   # int-or-string in the CRD
        "for": DURATION,
        "keep_firing_for": dict(DURATION, minLength=1),
        "labels": STRMAP,
        "annotations": STRMAP,
    },
    "required": ["expr"],
    "additionalProperties": False,
    # One of alert/record (Prometheus' own rule; the CRD leaves it to the operator).
    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
}
PROMETHEUS_RULE = closed({
    "apiVersion": {"const": "monitoring.coreos.com/v1"},
    "kind": {"const": "PrometheusRule"},
    "metadata": METADATA,
    "spec": closed({
        "groups": {"type": "array", "minItems": 1, "items": closed({
            "name": {"type": "string", "minLength": 1},
            "interval": DURATION,
            "query_offset": DURATION,
            "limit": {"type": "integer"},
            "labels": STRMAP,
            "rules": {"type": "array", "items": RULE},
        }, required=["name"])},
    }, required=["groups"]),
}, required=["apiVersion", "kind", "metadata", "spec"])
SCHEMAS = {"PodMonitor": POD_MONITOR, "PrometheusRule": PROMETHEUS_RULE}

def cmd_crd(path):
    objs = load_all(path)
    errors = 0
    for o in objs:
        v = jsonschema.Draft202012Validator(SCHEMAS[o["kind"]])
        errs = sorted(v.iter_errors(o), key=lambda e: list(e.path))
        for e in errs:
            where = ".".join(str(p) for p in e.path) or "(object)"
            print(f"ERROR {path}: {name(o)}: {where}: {e.message}")
        errors += len(errs)
        if not errs:
            print(f"INFO {path}: {name(o)} passed (strict subset of the monitoring.coreos.com/v1 CRD)")
    if errors:
        sys.exit(1)

# ---------------------------------------------------------------- consistency
EXPECTED_POD_SC = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
                   "seccompProfile": {"type": "RuntimeDefault"}}
EXPECTED_CONTAINER_SC = {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                         "capabilities": {"drop": ["ALL"]}}

def flag(args, name):
    """Values of --name=V and --name V in an argument list."""
    out = []
    for i, a in enumerate(args):
        if a.startswith(name + "="):
            out.append(a[len(name) + 1:])
        elif a == name and i + 1 < len(args):
            out.append(args[i + 1])
    return out

def cmd_consistency(rendered, alerts_path, mode, secret_cmd=None):
    problems = []
    def check(cond, msg):
        if not cond:
            problems.append(msg)
    objs = load_all(rendered)
    by_kind = {}
    for o in objs:
        by_kind.setdefault(o["kind"], []).append(o)
    def one(kind):
        xs = by_kind.get(kind, [])
        if len(xs) != 1:
            die(f"{rendered}: expected exactly one {kind}, found {len(xs)}")
        return xs[0]
    sts, svc, pm, rule = one("StatefulSet"), one("Service"), one("PodMonitor"), one("PrometheusRule")
    cms = {o["metadata"]["name"]: o for o in by_kind.get("ConfigMap", [])}
    secrets = {o["metadata"]["name"]: o for o in by_kind.get("Secret", [])}
    pod = sts["spec"]["template"]
    pod_labels = pod["metadata"].get("labels", {})
    spec = pod["spec"]
    containers = spec["containers"]
    check(len(containers) == 1, "the pod has exactly one container")
    c = containers[0]
    args = c.get("args", [])
    replicas = sts["spec"].get("replicas", 1)

    # Sharding
    check(flag(args, "--shard") == ["auto"], f"args have --shard auto once (got {flag(args, '--shard')})")
    total = flag(args, "--total-shards")
    check(total == [str(replicas)], f"--total-shards equals replicas ({replicas}); got {total}")
    check(sts["spec"].get("serviceName") == svc["metadata"]["name"], "StatefulSet serviceName is the headless Service")
    # --shard=auto reads the ordinal from the host name: it must stay the pod's name.
    check("hostname" not in spec and not spec.get("setHostnameAsFQDN", False),
          "no hostname or setHostnameAsFQDN in the pod spec (--shard=auto reads the pod name's ordinal)")

    # Image
    image = c.get("image", "")
    check(re.search(r"(^|/)binance-futures-exporter:[\w][\w.-]{0,127}$", image) is not None,
          f"image is binance-futures-exporter:TAG (got {image!r})")
    if mode == "base":
        check(image == "binance-futures-exporter:placeholder", f"the base's image tag is the placeholder (got {image!r})")
    else:
        check(not image.endswith(":placeholder"), "the overlay sets a real image tag")

    # Security context
    psc = spec.get("securityContext", {})
    for k, v in EXPECTED_POD_SC.items():
        check(psc.get(k) == v, f"pod securityContext.{k} == {v!r} (got {psc.get(k)!r})")
    csc = c.get("securityContext", {})
    for k, v in EXPECTED_CONTAINER_SC.items():
        check(csc.get(k) == v, f"container securityContext.{k} == {v!r} (got {csc.get(k)!r})")
    for k in ("runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile"):
        if k in csc:
            check(csc[k] == EXPECTED_POD_SC[k], f"container securityContext.{k} agrees with the pod's")
    check(csc.get("privileged", False) is False, "container is not privileged")
    check(spec.get("automountServiceAccountToken") is False, "automountServiceAccountToken: false")
    check(not spec.get("hostNetwork", False), "the base does not use hostNetwork")

    # Ports and probes
    ports = {p.get("name"): p for p in c.get("ports", [])}
    check(ports.get("metrics", {}).get("containerPort") == 9911, "container port `metrics` is 9911")
    def probe(kind, path):
        p = c.get(kind, {}).get("httpGet", {})
        port = p.get("port")
        check(p.get("path") == path and (port == "metrics" or port == 9911),
              f"{kind} is an httpGet of {path} on port 9911 (got {p})")
    probe("livenessProbe", "/-/healthy")
    probe("readinessProbe", "/-/ready")

    # Resources
    res = c.get("resources", {})
    for part in ("requests", "limits"):
        for r in ("cpu", "memory"):
            check(r in res.get(part, {}), f"resources.{part}.{r} is set")

    # Volumes: the config file and the key files
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = c.get("volumeMounts", [])
    def volume_at(path):
        """(volume, file name) of the mount holding path, the longest mount path first."""
        best = None
        for m in mounts:
            mp = m["mountPath"].rstrip("/") + "/"
            if path.startswith(mp) and (best is None or len(mp) > len(best[0])):
                best = (mp, m)
        if best is None:
            return None, None, None
        mp, m = best
        return volumes.get(m["name"]), m, path[len(mp):]
    for v in volumes.values():
        if "secret" in v:
            check(v["secret"].get("defaultMode") == 0o400, f"Secret volume {v['name']}: defaultMode 0400")
    for m in mounts:
        vol = volumes.get(m["name"], {})
        if "secret" in vol or "configMap" in vol:
            check(m.get("readOnly") is True, f"volume mount {m['name']} is readOnly")
        check("subPath" not in m, f"volume mount {m['name']} has no subPath (files follow updates)")
    cfg_paths = flag(args, "--config.file")
    check(len(cfg_paths) == 1, "args have --config.file once")
    config = None
    if cfg_paths:
        vol, m, fname = volume_at(cfg_paths[0])
        if vol is None or "configMap" not in vol:
            problems.append(f"--config.file {cfg_paths[0]} is not in a mounted ConfigMap")
        else:
            cm = cms.get(vol["configMap"]["name"])
            if cm is None or fname not in cm.get("data", {}):
                problems.append(f"ConfigMap {vol['configMap']['name']} has no key {fname!r}")
            else:
                config = yaml.safe_load(cm["data"][fname])
    key_files = []
    if config is not None:
        accounts = config.get("accounts")
        check(isinstance(accounts, list) and accounts, "config.yml has a non-empty accounts: list")
        names = [a.get("name") for a in accounts or []]
        check(len(names) == len(set(names)) and all(names), "account names are set and unique")
        for a in accounts or []:
            secret_sources = [k for k in ("secret", "secret_file", "secret_env", "private_key_file", "private_key_env") if k in a]
            check(len(secret_sources) == 1, f"account {a.get('name')}: exactly one secret or private key source (got {secret_sources})")
            check(any(k in a for k in ("api_key", "api_key_file", "api_key_env")), f"account {a.get('name')}: an API key source")
            check("secret" not in a and "api_key" not in a, f"account {a.get('name')}: no key written inline in the ConfigMap")
            for k in ("api_key_file", "secret_file", "private_key_file"):
                if k in a:
                    vol, m, fname = volume_at(a[k])
                    if vol is None or "secret" not in vol:
                        problems.append(f"account {a.get('name')}: {k} {a[k]} is not in a mounted Secret")
                        continue
                    key_files.append(fname)
                    sname = vol["secret"]["secretName"]
                    if mode == "base":
                        s = secrets.get(sname)
                        if s is None:
                            problems.append(f"Secret {sname} is not in the base")
                        else:
                            have = set(s.get("stringData", {})) | set(s.get("data", {}))
                            check(fname in have, f"Secret {sname} has the key {fname!r} ({k} of {a.get('name')})")
    if mode == "base":
        for s in secrets.values():
            check("data" not in s, f"Secret {s['metadata']['name']}: placeholders in stringData only")
            for k, v in s.get("stringData", {}).items():
                check(str(v).startswith("PLACEHOLDER"), f"Secret {s['metadata']['name']}: value of {k!r} starts with PLACEHOLDER")
    else:
        check(not secrets, "the overlay removes the placeholder Secret (the real one is created with kubectl)")
        if secret_cmd:
            text = open(secret_cmd).read()
            created = set(re.findall(r"--from-file=([^=\s]+)=", text))
            check(created == set(key_files),
                  f"docs' `kubectl create secret` creates exactly the files config.yml reads: {sorted(created)} vs {sorted(set(key_files))}")
            check("binance-futures-exporter-keys" in text, "docs' `kubectl create secret` names binance-futures-exporter-keys")

    # Service
    sspec = svc["spec"]
    check(sspec.get("clusterIP") == "None", "the Service is headless (clusterIP: None)")
    sel = sspec.get("selector", {})
    check(sel and all(pod_labels.get(k) == v for k, v in sel.items()), "the Service selects the pods")
    sports = {p.get("name"): p for p in sspec.get("ports", [])}
    check(sports.get("metrics", {}).get("port") == 9911, "Service port `metrics` is 9911")
    # PodMonitor
    pspec = pm["spec"]
    ml = pspec["selector"].get("matchLabels", {})
    check(ml and all(pod_labels.get(k) == v for k, v in ml.items()) and not pspec["selector"].get("matchExpressions"),
          "the PodMonitor's matchLabels select the pods")
    for ep in pspec["podMetricsEndpoints"]:
        check(ep.get("port") in ports, f"PodMonitor port {ep.get('port')!r} is a container port name")
        check(ep.get("path", "/metrics") == "/metrics", "PodMonitor path is /metrics")
    job = pod_labels.get(pspec.get("jobLabel", ""), "")
    check(re.fullmatch(r"binance-futures.*", job) is not None,
          f"job label (pod label {pspec.get('jobLabel')!r} = {job!r}) matches BinanceFuturesExporterDown's job=~\"binance-futures.*\"")
    # PrometheusRule: the same rules as prometheus/alerts.yml
    alerts = yaml.safe_load(open(alerts_path, encoding="utf-8"))
    check(rule["spec"].get("groups") == alerts.get("groups"), "the PrometheusRule's groups equal prometheus/alerts.yml's")

    if problems:
        for p in problems:
            print(f"ERROR {rendered} ({mode}): expected: {p}")
        sys.exit(1)
    print(f"{mode}: replicas {replicas}, --total-shards {total[0] if total else '?'}, image {image}, "
          f"{len(config.get('accounts', [])) if config else 0} accounts in config.yml")

# ---------------------------------------------------------------- rules for promtool
def cmd_rules(rendered, out):
    rules = [o for o in load_all(rendered) if o.get("kind") == "PrometheusRule"]
    if len(rules) != 1:
        die(f"{rendered}: expected one PrometheusRule, found {len(rules)}")
    with open(out, "w") as f:
        yaml.safe_dump({"groups": rules[0]["spec"]["groups"]}, f, sort_keys=False, allow_unicode=True, width=4096)
    print(sum(len(g.get("rules", [])) for g in rules[0]["spec"]["groups"]))

cmds = {"overlay": cmd_overlay, "split": cmd_split, "crd": cmd_crd, "consistency": cmd_consistency, "rules": cmd_rules}
cmds[sys.argv[1]](*sys.argv[2:])
PY
check() { "$py" "$work/check.py" "$@"; }

echo "== 1. deploy/kubernetes/prometheusrule.yaml is make_prometheusrule.py's output"
"$py" scripts/make_prometheusrule.py --output "$work/prometheusrule.yaml" || fail "scripts/make_prometheusrule.py failed"
if ! diff -u deploy/kubernetes/prometheusrule.yaml "$work/prometheusrule.yaml" > "$work/rule.diff"; then
  head -n 40 "$work/rule.diff"
  fail "deploy/kubernetes/prometheusrule.yaml differs from the generator's output: edit prometheus/alerts.yml, never this file, then run: python3 scripts/make_prometheusrule.py"
fi
ok "prometheusrule.yaml equals the generator's output"

echo "== 2. kubectl kustomize: the base and the overlay of docs/kubernetes.md"
kubectl kustomize deploy/kubernetes > "$work/base.yaml" 2> "$work/kustomize.err" \
  || { cat "$work/kustomize.err" >&2; fail "kubectl kustomize deploy/kubernetes"; }
check overlay docs/kubernetes.md "$work/overlay" "$PWD/deploy/kubernetes" || fail "docs/kubernetes.md: the example overlay"
kubectl kustomize "$work/overlay" > "$work/overlay.yaml" 2> "$work/kustomize.err" \
  || { cat "$work/kustomize.err" >&2; fail "kubectl kustomize of the overlay in docs/kubernetes.md"; }
ok "rendered: base $(grep -c '^kind:' "$work/base.yaml") objects, docs' overlay $(grep -c '^kind:' "$work/overlay.yaml") objects"

for r in base overlay; do
  echo "== 3. kubernetes-validate --strict ($r; Kubernetes ${K8S_VERSIONS[*]})"
  check split "$work/$r.yaml" "$work/$r-builtin.yaml" "$work/$r-crd.yaml" > "$work/split.out" \
    || fail "$r: an object of a kind this check cannot validate"
  read -r n_builtin n_crd < "$work/split.out"
  kv_args=(--strict)
  for v in "${K8S_VERSIONS[@]}"; do kv_args+=(-k "$v"); done
  set +e
  "$venv/bin/kubernetes-validate" "${kv_args[@]}" "$work/$r-builtin.yaml" > "$work/kv.out" 2>&1
  status=$?
  set -e
  sed 's/^/   /' "$work/kv.out"
  passed=$(grep -c '^INFO .* passed for resource' "$work/kv.out" || true)
  expected=$(( n_builtin * ${#K8S_VERSIONS[@]} ))
  # kubernetes-validate exits 0 after a WARN (no schema for a kind): every line must be a pass.
  if [ "$status" -ne 0 ] || grep -qv '^INFO .* passed for resource' "$work/kv.out" || [ "$passed" -ne "$expected" ]; then
    fail "kubernetes-validate --strict ($r): exit $status, $passed of $expected validations passed"
  fi
  ok "$r: $n_builtin built-in objects valid under kubernetes-validate --strict for Kubernetes ${K8S_VERSIONS[*]}"

  echo "== 4. custom resources ($r): strict schema of the fields used (monitoring.coreos.com/v1)"
  check crd "$work/$r-crd.yaml" | sed 's/^/   /' || fail "custom resources ($r) do not validate"
  ok "$r: $n_crd custom resources (PodMonitor, PrometheusRule) valid under this check's strict CRD subset"

  echo "== 5. consistency ($r)"
  consistency_args=("$work/$r.yaml" prometheus/alerts.yml "$r")
  [ "$r" = overlay ] && consistency_args+=("$work/overlay/create-secret.sh")
  check consistency "${consistency_args[@]}" | sed 's/^/   /' || fail "consistency ($r)"
  ok "$r: shards, config and key files, security context, probes, resources, selectors, rules"
done

echo "== 6. promtool on the rendered PrometheusRule's groups"
mkdir -p "$work/rules"
n_rules=$(check rules "$work/base.yaml" "$work/rules/alerts.yml") || fail "no PrometheusRule in the rendered base"
promtool check rules "$work/rules/alerts.yml" 2>&1 | sed 's/^/   /' || fail "promtool check rules on the rendered PrometheusRule"
# The unit tests read `alerts.yml` beside them: here, the rendered rules.
cp prometheus/alerts_test.yml "$work/rules/alerts_test.yml"
promtool test rules "$work/rules/alerts_test.yml" > "$work/promtool-test.out" 2>&1 \
  || { cat "$work/promtool-test.out"; fail "promtool test rules (prometheus/alerts_test.yml) on the rendered PrometheusRule"; }
ok "promtool: $n_rules rendered rules pass check rules and prometheus/alerts_test.yml"

echo "== check_kubernetes summary"
printf '   %s\n' "${summary[@]}"
echo "   not checked: a live API server (admission, defaults, the CRDs' CEL rules), the Prometheus Operator's selectors, the image, the exporter's own reading of config.yml"
echo "check_kubernetes: OK (${#summary[@]} checks)"
