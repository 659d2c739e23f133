#!/usr/bin/env python3
"""Validates FHIR R4 JSON with an implementation independent of Aftercare's: fhir.resources (its
R4B models, pydantic), which refuses unknown elements, wrong types, wrong cardinalities and
malformed primitives (ids, dates, instants, URIs, codes).

Reads resources from the files named (or stdin): a JSON resource per file, or ndjson (a resource
per line, as Bulk Data exports). A Bundle is validated with the resources it holds. Prints one line
per invalid resource and exits 1 if there was any; else prints how many resources of each type
were valid and exits 0.

    validate.py [--type TYPE] [FILE...]     (--type: every resource must be of this type)
"""
import json
import sys
from collections import Counter

from fhir.resources.R4B import get_fhir_model_class


def resources(text, name):
    text = text.strip()
    if not text:
        return
    if text.startswith("{") and "\n{" not in text:
        yield name, json.loads(text)
        return
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield f"{name}:{n}", json.loads(line)


def validate(where, resource, wanted):
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if kind is None:
        return f"{where}: not a FHIR resource (no resourceType)"
    if wanted and kind != wanted:
        return f"{where}: a {kind}, not a {wanted}"
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except Exception as e:  # the model's own message names each wrong element
        return f"{where}: {kind}/{resource.get('id')}: {e}"
    return None


def main(argv):
    wanted = None
    if argv[:1] == ["--type"]:
        wanted, argv = argv[1], argv[2:]
    sources = [(name, open(name, encoding="utf-8").read()) for name in argv] or [("stdin", sys.stdin.read())]
    valid, errors = Counter(), []
    for name, text in sources:
        try:
            for where, resource in resources(text, name):
                error = validate(where, resource, wanted)
                if error:
                    errors.append(error)
                else:
                    valid[resource["resourceType"]] += 1
        except json.JSONDecodeError as e:
            errors.append(f"{name}: not JSON: {e}")
    for error in errors:
        print(error)
    if not errors:
        print(json.dumps(valid, sort_keys=True))
    return 1 if errors or not valid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
