"""Validates the reports the scenario test rendered, with maintained consumers:

* every <name>.json against schema/report.schema.json with python-jsonschema (Draft 2020-12,
  formats checked);
* every <name>.xml parsed by junitparser: one test case per check of the JSON report, named by
  its id, in the suite of its area, with <failure> for fail, <error> for unknown and <skipped>
  for skipped, not_applicable and waived, the failure's message being the summary.

Usage: python3 validate.py SCHEMA DIR. Prints one line per problem and exits 1 if any.
"""
import json
import pathlib
import sys

import jsonschema
from junitparser import Error, Failure, JUnitXml, Skipped

schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
problems = []
reports = sorted(pathlib.Path(sys.argv[2]).glob("*.json"))
if not reports:
    problems.append("no reports to validate")
KIND = {"fail": Failure, "unknown": Error, "skipped": Skipped, "not_applicable": Skipped,
        "waived": Skipped}
for path in reports:
    doc = json.loads(path.read_text())
    for e in sorted(validator.iter_errors(doc), key=str):
        problems.append(f"{path.name}: {e.message} at /{'/'.join(map(str, e.absolute_path))}")
    checks = {c["id"]: c for c in doc["checks"]}
    xml = JUnitXml.fromfile(str(path.with_suffix(".xml")))
    seen = set()
    for suite in xml:
        for case in suite:
            check = checks.get(case.name)
            if check is None:
                problems.append(f"{path.stem}.xml: test case {case.name} is no check")
                continue
            seen.add(case.name)
            if suite.name != check["area"] or case.classname != f"dockdoc.{check['area']}":
                problems.append(f"{path.stem}.xml: {case.name} is in suite {suite.name}")
            kinds = [type(r) for r in case.result]
            want = KIND.get(check["status"])
            if kinds != ([want] if want else []):
                problems.append(f"{path.stem}.xml: {case.name} ({check['status']}) has {kinds}")
            elif check["status"] == "fail" and case.result[0].message != check["summary"]:
                problems.append(f"{path.stem}.xml: {case.name}: message {case.result[0].message!r}")
    missing = set(checks) - seen
    if missing:
        problems.append(f"{path.stem}.xml: no test case for {sorted(missing)}")
for p in problems:
    print(p)
print(f"validated {len(reports)} JSON reports and their JUnit files: {len(problems)} problems")
sys.exit(1 if problems else 0)
