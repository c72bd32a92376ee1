#!/usr/bin/env python3
"""monitoring-queries.py PROM_URL METRICS_FILE DASHBOARD RULES: run every
query of the Grafana dashboard and every alert expression of the rules file
against a real Prometheus (/api/v1/query) and check each metric it names.

One line per check on stdout: "ok|WHAT" or "not ok|WHAT|WHY" (the caller
turns them into TAP). A query must be valid (status success); every metric it
names must be one ocitapd's /metrics declares with # HELP (or Prometheus'
own "up"), and must have a series in Prometheus, unless it is one that
appears only on some event (then its HELP line is what there is)."""
import json
import re
import sys
import urllib.parse
import urllib.request

import yaml

prom, metrics_file, dashboard, rules = sys.argv[1:5]

helped = set(re.findall(r"^# HELP (\S+) ", open(metrics_file).read(), re.M))
# PromQL words that are not metric names
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}


def metric_names(expr):
    """The metric names in expr: identifiers that are not functions,
    keywords, label names in {...} or by/without (...) lists."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    e = re.sub(r"\{[^}]*\}", " ", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)  # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\b\d+(ms|s|m|h|d|w|y)\b", " ", e)  # durations (offset 5m)
    e = re.sub(r"\b\d+(\.\d+)?([eE][+-]?\d+)?\b", " ", e)  # numbers
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word, rest = m.group(0), e[m.end():].lstrip()
        if rest.startswith("(") or word in KEYWORDS:
            continue
        names.add(word)
    return names


def family(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in helped:
            return name[: -len(suffix)]
    return name


def query(q):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as err:
        return json.load(err)


def grafana(expr):
    # the dashboard's variables, as Grafana would fill them in
    return expr.replace("$__rate_interval", "1m").replace("$instance", ".*")


exprs = []
d = json.load(open(dashboard))
panels = list(d["panels"])
for p in list(panels):
    panels.extend(p.get("panels", []))
for p in panels:
    for t in p.get("targets", []):
        exprs.append(("dashboard panel %r %s" % (p["title"], t["refId"]), grafana(t["expr"])))
for g in yaml.safe_load(open(rules))["groups"]:
    for r in g["rules"]:
        exprs.append(("alert %s" % r.get("alert", r.get("record")), r["expr"]))

if len(exprs) < 20:
    print("not ok|the dashboard and rules hold queries|only %d found" % len(exprs))
seen = {}
for what, expr in exprs:
    res = query(expr)
    names = metric_names(expr)
    if res.get("status") != "success":
        print("not ok|%s: valid PromQL|%s: %s" % (what, expr, res.get("error")))
        continue
    if not names:
        print("not ok|%s: names a metric|%s" % (what, expr))
        continue
    unknown = sorted(n for n in names if n != "up" and family(n) not in helped)
    if unknown:
        print("not ok|%s: every metric is one ocitapd exports|%s not in /metrics" % (what, ", ".join(unknown)))
        continue
    print("ok|%s: valid, names %s" % (what, ", ".join(sorted(names))))
    for n in names:
        seen.setdefault(n, what)

# each metric named anywhere: a series in Prometheus, or (an event-only
# metric) its HELP in /metrics; the ones the test made happen must have series
must = set(sys.argv[5].split(",")) if len(sys.argv) > 5 and sys.argv[5] else set()
for n in sorted(seen):
    res = query('count({__name__="%s"})' % n)
    count = int(res["data"]["result"][0]["value"][1]) if res.get("status") == "success" and res["data"]["result"] else 0
    if count:
        print("ok|%s: %d series in Prometheus" % (n, count))
    elif n in must or n == "up":
        print("not ok|%s: has series in Prometheus|none (named by %s)" % (n, seen[n]))
    else:
        print("ok|%s: no series yet (appears on an event), declared with HELP in /metrics" % n)
