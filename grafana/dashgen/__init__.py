"""Dashboards as code: plain Python dicts in Grafana's dashboard JSON model.

`builders` has the few constructors every board needs (panels, queries, variables, links,
layout); `boards/` has one module per dashboard. `grafana/generate.py` writes the JSON.
"""
